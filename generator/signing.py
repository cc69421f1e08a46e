"""minisign keys and signatures (py-minisign), in the exact format of the stock `minisign` tool."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import minisign

SECRET_KEY_ENV = "CLAUSEWATCH_SECRET_KEY"
SIGNATURE_SUFFIX = ".minisig"
UNTRUSTED_COMMENT = "clausewatch signature; verify: minisign -Vm FILE -p minisign.pub"


class SigningError(Exception):
    """A key is missing, unreadable or does not match the archive."""


@dataclass(frozen=True)
class Signer:
    """A loaded secret key and the id of its public half (hex, upper case, as minisign prints)."""

    secret_key: minisign.SecretKey
    key_id: str

    def public_key(self) -> minisign.PublicKey:
        return self.secret_key.get_public_key()

    def sign(self, data: bytes, trusted_comment: str) -> bytes:
        # prehash=True: the stock tool's current format; legacy (non-hashed) signatures are
        # refused by `minisign -V` unless told otherwise.
        signature = self.secret_key.sign(
            data, prehash=True, untrusted_comment=UNTRUSTED_COMMENT,
            trusted_comment=trusted_comment,
        )
        return bytes(signature) + b"\n"


# Keys whose secret half is published, so that their signatures show a file is intact as published,
# not who signed it: the demo key of the committed sample archive (demo-key/).
PUBLISHED_KEY_IDS = frozenset({"ABC4DDD0A75B7082"})


def key_id_of(public_key: minisign.PublicKey) -> str:
    """The key id as the stock `minisign` prints it: a little-endian integer in hex."""
    return bytes(public_key._keynum_pk.key_id)[::-1].hex().upper()


def signer_from_bytes(data: bytes, origin: str) -> Signer:
    try:
        secret = minisign.SecretKey.from_bytes(data)
    except (minisign.Error, ValueError, IndexError) as err:
        raise SigningError(f"{origin}: not a minisign secret key ({err})") from err
    if secret.is_encrypted():
        raise SigningError(
            f"{origin}: the secret key is password-protected; clausewatch signs unattended, "
            "so use an unencrypted key (`clausewatch keygen DIR` makes one)"
        )
    return Signer(secret, key_id_of(secret.get_public_key()))


def load_signer(secret_key_file: Path | None) -> Signer:
    """The key from --secret-key FILE, else from $CLAUSEWATCH_SECRET_KEY, else a clear error."""
    if secret_key_file is not None:
        try:
            data = secret_key_file.read_bytes()
        except OSError as err:
            raise SigningError(f"--secret-key {secret_key_file}: cannot read ({err.strerror})") from err
        return signer_from_bytes(data, str(secret_key_file))
    env = os.environ.get(SECRET_KEY_ENV, "").strip()
    if env:
        return signer_from_bytes(env.encode() + b"\n", f"${SECRET_KEY_ENV}")
    raise SigningError(
        f"no signing key: set {SECRET_KEY_ENV} to the contents of a minisign secret key file, "
        "or pass --secret-key FILE (make a key pair with `clausewatch keygen DIR`)"
    )


def generate_key_pair(directory: Path) -> tuple[Path, Path]:
    """Write DIR/minisign.key (unencrypted, for CI secrets) and DIR/minisign.pub; never overwrite."""
    secret_path, public_path = directory / "minisign.key", directory / "minisign.pub"
    for path in (secret_path, public_path):
        if path.exists():
            raise SigningError(f"{path} already exists; refusing to overwrite a key")
    directory.mkdir(parents=True, exist_ok=True)
    pair = minisign.KeyPair.generate()
    public, secret = pair.public_key, pair.secret_key
    public.untrusted_comment = f"minisign public key {key_id_of(public)}"
    secret.untrusted_comment = "clausewatch secret key (unencrypted: keep it in a CI secret)"
    fd = os.open(secret_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(bytes(secret) + b"\n")
    public_path.write_bytes(bytes(public) + b"\n")
    return secret_path, public_path


def read_public_key(path: Path) -> minisign.PublicKey:
    try:
        return minisign.PublicKey.from_file(path)
    except FileNotFoundError as err:
        raise SigningError(f"{path}: public key not found") from err
    except OSError as err:  # a folder in its place, or no permission
        raise SigningError(f"{path}: cannot read the public key ({err.strerror or err})") from err
    except (minisign.Error, ValueError, IndexError) as err:
        raise SigningError(f"{path}: not a minisign public key ({err})") from err


def verify_signature(public_key: minisign.PublicKey, data: bytes, signature: bytes) -> str:
    """Check a detached signature; return its trusted comment. Raises minisign.Error if bad."""
    parsed = minisign.Signature.from_bytes(signature)
    public_key.verify(data, parsed)
    return str(parsed.trusted_comment)


def trusted_comment(fields: dict[str, str]) -> str:
    """Tab-separated `name:value` pairs, the convention of minisign's own trusted comments."""
    return "\t".join(f"{name}:{value}" for name, value in fields.items())


def parse_trusted_comment(comment: str) -> dict[str, str]:
    pairs = (item.partition(":") for item in comment.split("\t"))
    return {name: value for name, sep, value in pairs if sep}
