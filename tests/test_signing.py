"""Keys and signatures, checked against the stock `minisign` binary."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import minisign
import pytest

from generator.signing import (
    SECRET_KEY_ENV,
    SigningError,
    generate_key_pair,
    key_id_of,
    load_signer,
    parse_trusted_comment,
    read_public_key,
    trusted_comment,
    verify_signature,
)

MINISIGN = shutil.which("minisign")


def stock_verify(file: Path, public_key: Path) -> subprocess.CompletedProcess[str]:
    assert MINISIGN, "the stock minisign binary is required (apt-get install minisign)"
    return subprocess.run([MINISIGN, "-Vm", str(file), "-p", str(public_key)],
                          capture_output=True, text=True, check=False)


def test_keygen_writes_a_pair_and_never_overwrites(tmp_path: Path) -> None:
    secret, public = generate_key_pair(tmp_path / "k")
    assert secret.stat().st_mode & 0o777 == 0o600
    signer = load_signer(secret)
    assert signer.key_id == key_id_of(read_public_key(public))
    assert public.read_text().startswith(f"untrusted comment: minisign public key {signer.key_id}\n")
    with pytest.raises(SigningError, match="refusing to overwrite"):
        generate_key_pair(tmp_path / "k")


def test_keygen_without_a_folder_writes_to_home_minisign_not_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from generator.cli import main
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert main(["keygen"]) == 0
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["home/.minisign/minisign.key", "home/.minisign/minisign.pub"]
    assert str(tmp_path / "home/.minisign/minisign.key") in capsys.readouterr().out
    assert main(["keygen"]) == 1  # never overwrites


def test_stock_minisign_accepts_our_signature_and_rejects_a_flipped_byte(
        tmp_path: Path, key_pair: tuple[Path, Path]) -> None:
    secret, public = key_pair
    signer = load_signer(secret)
    data = b"Terms of Service\n================\n\nWe may change these terms.\n"
    comment = trusted_comment({"document": "acme/terms-of-service", "sha256": "abc"})
    file = tmp_path / "v.md"
    file.write_bytes(data)
    (tmp_path / "v.md.minisig").write_bytes(signer.sign(data, comment))
    ok = stock_verify(file, public)
    assert ok.returncode == 0, ok.stderr
    assert "document:acme/terms-of-service" in ok.stdout
    file.write_bytes(data.replace(b"may", b"may not"))
    assert stock_verify(file, public).returncode != 0


def test_signatures_are_prehashed_and_verify_in_python(key_pair: tuple[Path, Path]) -> None:
    signer = load_signer(key_pair[0])
    sig = signer.sign(b"x", "a:b")
    assert minisign.Signature.from_bytes(sig).is_prehashed()
    assert verify_signature(read_public_key(key_pair[1]), b"x", sig) == "a:b"
    with pytest.raises(minisign.Error):
        verify_signature(read_public_key(key_pair[1]), b"y", sig)


def test_secret_key_from_environment(monkeypatch: pytest.MonkeyPatch, key_pair: tuple[Path, Path]) -> None:
    monkeypatch.setenv(SECRET_KEY_ENV, key_pair[0].read_text())
    assert load_signer(None).key_id == key_id_of(read_public_key(key_pair[1]))


def test_missing_key_fails_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_KEY_ENV, raising=False)
    with pytest.raises(SigningError, match=f"set {SECRET_KEY_ENV}.*--secret-key FILE"):
        load_signer(None)


def test_unreadable_and_garbage_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SigningError, match="cannot read"):
        load_signer(tmp_path / "absent.key")
    monkeypatch.setenv(SECRET_KEY_ENV, "not a key")
    with pytest.raises(SigningError, match="not a minisign secret key"):
        load_signer(None)


def test_password_protected_key_is_refused(tmp_path: Path) -> None:
    pair = minisign.KeyPair.generate()
    pair.secret_key.encrypt("hunter2")
    path = tmp_path / "enc.key"
    path.write_bytes(bytes(pair.secret_key))
    with pytest.raises(SigningError, match="password-protected"):
        load_signer(path)


def test_trusted_comment_round_trip() -> None:
    fields = {"document": "a/b", "version": "2025-01-01T00-00-00Z", "sha256": "ff"}
    assert parse_trusted_comment(trusted_comment(fields)) == fields
