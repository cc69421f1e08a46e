"""content/ loading: the committed declarations are valid; each invalid fixture yields its message."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.content import load_content
from generator.model import ContentPage, DocKey, ProblemsError, RangeSelector

from .conftest import DATA, ROOT

INVALID = sorted((DATA / "invalid-services").glob("*.yaml"))


def make_content(tmp_path: Path, services: dict[str, str]) -> Path:
    content = tmp_path / "content"
    (content / "services").mkdir(parents=True)
    for name in ("site.yaml", "document-types.yaml"):
        shutil.copy(ROOT / "content" / name, content / name)
    for slug, text in services.items():
        (content / "services" / f"{slug}.yaml").write_text(text, encoding="utf-8")
    return content


def problems_of(content: Path) -> list[str]:
    with pytest.raises(ProblemsError) as caught:
        load_content(content)
    return [str(p) for p in caught.value.problems]


def test_committed_content_is_valid() -> None:
    content = load_content(ROOT / "content")
    keys = {decl.key for service in content.services for decl in service.documents}
    assert DocKey("claude-ai", "terms-of-service") in keys
    assert content.settings.base_url.endswith("/")
    assert "Open Terms Archive" in content.settings.attribution


def test_committed_declarations_match_the_corpus(corpus: Path) -> None:
    content = load_content(ROOT / "content")
    corpus_keys = {DocKey(p.parent.parent.name, p.parent.name) for p in corpus.glob("*/*/metadata.yaml")}
    declared = {decl.key for service in content.services for decl in service.documents}
    # Every sample document is declared; a contributor's new declaration comes on top.
    assert len(corpus_keys) == 25 and corpus_keys <= declared


def test_multi_page_and_range_declarations_load() -> None:
    content = load_content(ROOT / "content")
    chatgpt = content.declaration(DocKey("chatgpt", "privacy-policy"))
    assert chatgpt and len(chatgpt.pages) == 2
    assert all(page.select == ("main",) for page in chatgpt.pages)
    spotify = content.declaration(DocKey("spotify", "terms-of-service"))
    assert spotify and spotify.pages[0].select == (
        RangeSelector("#spotify-terms-of-use", True, "footer", False),)


def test_invalid_fixtures_exist() -> None:
    assert len(INVALID) >= 10


@pytest.mark.parametrize("fixture", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_declaration_reports_file_key_and_fix(fixture: Path, tmp_path: Path) -> None:
    text = fixture.read_text(encoding="utf-8")
    expected = text.splitlines()[0].removeprefix("# expect: ")
    content = make_content(tmp_path, {fixture.stem: text})
    found = problems_of(content)
    wanted = f"{fixture.stem}.yaml: {expected}"
    assert any(wanted in problem for problem in found), found


def test_a_noise_pattern_is_quoted_as_written(tmp_path: Path) -> None:
    # repr() doubled every backslash: '(\\d+)?' is not what the contributor wrote. A character one
    # cannot see (a tab, from "\t" in double quotes) is still shown escaped.
    declaration = ("name: Acme\ndocuments:\n  terms-of-service:\n    url: https://a.example/t\n"
                   "    noise: ['(\\d+)?', \"\\t*\"]\n")
    found = problems_of(make_content(tmp_path, {"acme": declaration}))
    assert any(r"acme.yaml: documents.terms-of-service.noise[0]: '(\d+)?' matches the empty string" in p
               for p in found), found
    assert any(r"acme.yaml: documents.terms-of-service.noise[1]: '\t*' matches the empty string" in p
               for p in found), found

def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    content = make_content(tmp_path, {
        "one": "name: One\ndocuments:\n  privacy-policy:\n    url: nope\n",
        "two": "documents:\n  cookie-policy:\n    url: https://example.com/c\n",
    })
    found = problems_of(content)
    assert len(found) == 2
    assert any("one.yaml: documents.privacy-policy.url" in p for p in found)
    assert any("two.yaml: name: missing" in p for p in found)


@pytest.mark.parametrize("slug, message", [
    ("search", "collides with a page of the site itself"),
    ("Acme_Cloud", "is not a kebab-case service slug"),
])
def test_service_slug_rules(tmp_path: Path, slug: str, message: str) -> None:
    content = make_content(tmp_path, {slug: "name: X\ndocuments:\n  privacy-policy:\n    url: https://x.org/\n"})
    assert any(f"{slug}.yaml: " in p and message in p for p in problems_of(content))


def test_settings_problems_name_the_key(tmp_path: Path) -> None:
    content = make_content(tmp_path, {"acme": "name: Acme\ndocuments:\n  privacy-policy:\n    url: https://a.b/\n"})
    (content / "site.yaml").write_text("title: T\nbase_url: not a url\nattribution: A\ncolour: red\n")
    found = problems_of(content)
    assert any("site.yaml: base_url: not an http(s) URL" in p for p in found)
    assert any("site.yaml: colour: unknown key" in p for p in found)
    (content / "site.yaml").write_text("title: T\nbase_url: https://a.example/\nattribution: A\n"
                                       "language: English\nrepository: github.com/acme/terms\n")
    found = problems_of(content)
    assert any("language: 'English' is not a language tag (fix: write a BCP 47" in p for p in found)
    assert any("site.yaml: repository: not an http(s) URL" in p for p in found)
    # Found by trying the verbs: the sitemap then listed https://a.example/site?x=1#top/about/.
    (content / "site.yaml").write_text("title: T\nbase_url: https://a.example/site?x=1#top\nattribution: A\n")
    assert any("site.yaml: base_url: 'https://a.example/site?x=1#top' has a query or fragment" in p
               for p in problems_of(content))


def test_missing_document_types_file(tmp_path: Path) -> None:
    content = make_content(tmp_path, {"acme": "name: Acme\ndocuments:\n  privacy-policy:\n    url: https://a.b/\n"})
    (content / "document-types.yaml").unlink()
    assert any("document-types.yaml: file not found" in p for p in problems_of(content))


def test_validate_cli_exit_status(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "generator", "validate", "--content", str(ROOT / "content")],
                        capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    content = load_content(ROOT / "content")
    assert f"{sum(len(s.documents) for s in content.services)} documents" in ok.stdout
    broken = make_content(tmp_path, {"acme": (DATA / "invalid-services" / "url-not-http.yaml").read_text()})
    bad = subprocess.run([sys.executable, "-m", "generator", "validate", "--content", str(broken)],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "acme.yaml: documents.terms-of-service.url: not an http(s) URL" in bad.stderr
    assert "fix:" in bad.stderr


def test_yaml_nested_too_deep_is_a_yaml_problem_not_a_crash(tmp_path: Path) -> None:
    # libyaml refuses it; the pure-Python parser, asked again for its message, would overflow the stack.
    content = make_content(tmp_path, {"deep": "name: Deep\ndocuments: " + "[" * 5000 + "\n"})
    assert any("deep.yaml: line 2: not valid YAML" in p for p in problems_of(content))


# --- pages written in content/pages/ -----------------------------------------------------------

ACME = {"acme": "name: Acme\ndocuments:\n  privacy-policy:\n    url: https://a.b/\n"}


def write_pages(content: Path, pages: dict[str, str]) -> None:
    (content / "pages").mkdir(exist_ok=True)
    for slug, text in pages.items():
        (content / "pages" / f"{slug}.md").write_text(text, encoding="utf-8")


def test_committed_pages_render_with_fixed_anchors_and_the_builds_values() -> None:
    from generator.pages import render_page

    content = load_content(ROOT / "content")
    pages = {p.slug: p for p in content.pages}
    assert {"about", "methodology"} <= set(pages)
    values = {"title": "T & co", "description": "D", "attribution": "A [x](javascript:y) <b>", "key_id": "K1"}
    methodology = render_page(pages["methodology"], values)
    for anchor in ("capture", "verify", "rules", "sources"):  # linked from every page: never renamed
        assert f'<h2 id="{anchor}">' in methodology.html
    assert "<code>K1</code>" in methodology.html and "{{" not in methodology.html
    assert 'href="../minisign.pub"' in methodology.html and 'href="../rules/"' in methodology.html
    # A value is text: no link, no markup from the site settings.
    credited = render_page(ContentPage("credits", "Credits", "Sources: {{ attribution }}"), values).html
    assert "A [x](javascript:y) &lt;b&gt;" in credited and "<a href=\"javascript" not in credited
    assert render_page(pages["about"], values).title == "About T & co"


@pytest.mark.parametrize(("text", "message"), [
    ("No front matter.\n", "press.md: no front matter (fix: start the file with '---'"),
    ("---\ntitle: [unclosed\n---\nx\n",
     "press.md: front matter, line 2: not valid YAML: expected ',' or ']'"),
    ("---\n- a list\n---\nx\n", "press.md: front matter: must be a mapping"),
    ("---\ntitle: Press\nmenu: main\n---\nx\n", "press.md: menu: unknown key (fix: use only title)"),
    ("---\ntitle: ''\n---\nx\n", "press.md: title: missing or empty"),
    ("---\ntitle: 2024\n---\nx\n", 'press.md: title: 2024 is not text (fix: quote it: title: "2024")'),
    ("---\ntitle: Press\n---\nKey {{ secret_key }}\n",
     "press.md: {{ secret_key }}: unknown placeholder (fix: use one of"),
])
def test_a_broken_page_names_file_key_and_fix(tmp_path: Path, text: str, message: str) -> None:
    content = make_content(tmp_path, ACME)
    write_pages(content, {"press": text})
    assert any(message in p for p in problems_of(content))


def test_a_tab_in_a_pages_front_matter_is_named_in_the_fix(tmp_path: Path) -> None:
    # An editor shows a tab as spaces: "fix the YAML" did not say what to look for.
    content = make_content(tmp_path, ACME)
    write_pages(content, {"press": "---\ntitle: Press\n\tmenu: main\n---\nx\n"})
    found = [p for p in problems_of(content) if "press.md: front matter, line 3: not valid YAML" in p]
    assert found and found[0].endswith("(fix: replace the tab with spaces: YAML indents with spaces only)")
    assert "\n" not in found[0]  # one line, not PyYAML's report with its marks



def test_a_page_that_is_its_front_matter_alone_is_read(tmp_path: Path) -> None:
    # Found by trying the verbs: without a line break after the closing '---' it had "no front matter".
    content = make_content(tmp_path, ACME)
    write_pages(content, {"press": "---\ntitle: Press\n---"})
    assert {p.slug: p.title for p in load_content(content).pages}["press"] == "Press"


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace(" {#verify}", ""),
     "methodology.md: {#verify}: missing: other pages link to methodology/#verify (fix: end the heading"),
    (lambda t: t.replace("{#verify}", "{#Verify}"), "methodology.md: {#Verify}: not a valid anchor"),
    (lambda t: t.replace("{#sources}", "{#verify}"), "methodology.md: {#verify}: anchor used twice"),
    # Found by trying the verbs: a heading written inside a code block passed for the anchor.
    (lambda t: t.replace(" {#verify}", "") + "\n```\n## Verify {#verify}\n```\n",
     "methodology.md: {#verify}: missing: other pages link to methodology/#verify"),
])
def test_the_anchors_other_pages_link_to_are_checked(tmp_path: Path, edit: Callable[[str], str],
                                                      message: str) -> None:
    content = make_content(tmp_path, ACME)
    methodology = (ROOT / "content" / "pages" / "methodology.md").read_text(encoding="utf-8")
    assert "{#verify}" in methodology and "{#sources}" in methodology
    write_pages(content, {"methodology": edit(methodology)})
    assert any(message in p for p in problems_of(content)), problems_of(content)


def test_a_page_saved_with_a_byte_order_mark_reads_as_written(tmp_path: Path) -> None:
    content = make_content(tmp_path, ACME)
    write_pages(content, {"press": "\ufeff---\ntitle: Press\n---\nContact us.\n"})
    assert "press" in {p.slug for p in load_content(content).pages}


def test_page_slugs_may_not_shadow_a_service_or_the_sites_own_names(tmp_path: Path) -> None:
    content = make_content(tmp_path, ACME)
    write_pages(content, {"acme": "---\ntitle: A\n---\n", "search": "---\ntitle: S\n---\n",
                          "Press_Kit": "---\ntitle: P\n---\n", "about": "---\ntitle: About\n---\n"})
    found = problems_of(content)
    assert any("acme.md: page slug 'acme' is also a service's" in p for p in found)
    assert any("search.md: page slug 'search' is a name the site uses itself" in p for p in found)
    assert any("Press_Kit.md: file name 'Press_Kit' is not a kebab-case page slug" in p for p in found)
    assert not any("about.md" in p for p in found)


def test_validate_and_build_refuse_a_content_folder_without_the_linked_pages(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from generator.cli import main

    content = make_content(tmp_path, ACME)
    shutil.copytree(ROOT / "content" / "rules", content / "rules")
    write_pages(content, {"about": "---\ntitle: About\n---\nHello.\n"})
    assert main(["validate", "--content", str(content)]) == 1
    assert "pages/methodology.md: file not found (fix: restore it" in capsys.readouterr().err
    assert main(["build", "--content", str(content), "--out", str(tmp_path / "site")]) == 1
    assert "pages/methodology.md: file not found" in capsys.readouterr().err


def test_service_files_that_would_never_be_read_are_named(tmp_path: Path) -> None:
    declaration = "name: Acme\ndocuments:\n  privacy-policy:\n    url: https://a.example/p\n"
    content = make_content(tmp_path, {"acme": declaration})
    (content / "services" / "beta.yml").write_text(declaration)
    (content / "services" / "old").mkdir()
    (content / "services" / "old" / "gamma.yaml").write_text(declaration)
    found = problems_of(content)
    assert any("services/beta.yml: never read" in p and "rename it to beta.yaml" in p for p in found), found
    assert any("services/old/gamma.yaml: never read" in p for p in found), found


def test_validate_warns_about_archived_documents_no_longer_declared(tmp_path: Path) -> None:
    # A renamed service leaves its history behind: shown, never captured again.
    shutil.copytree(ROOT / "content", tmp_path / "content")
    (tmp_path / "content/services/mistral-ai.yaml").rename(tmp_path / "content/services/mistral.yaml")
    validate = [sys.executable, "-m", "generator", "validate", "--archive", str(ROOT / "archive")]
    result = subprocess.run([*validate, "--content", str(tmp_path / "content")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "but not declared" in result.stderr and "mistral-ai/terms-of-service" in result.stderr
    # ... and when there are errors as well, before them (it was said only once they were fixed).
    (tmp_path / "content/rules/arbitration/empty.yaml").write_text("# to do\n")
    failed = subprocess.run([*validate, "--content", str(tmp_path / "content")],
                            capture_output=True, text=True, check=False)
    assert failed.returncode == 1 and "empty.yaml: empty file" in failed.stderr, failed.stderr
    assert "mistral-ai/terms-of-service" in failed.stderr.split("empty.yaml: empty file")[0]
    quiet = subprocess.run(validate, cwd=ROOT, capture_output=True, text=True, check=False)
    assert quiet.returncode == 0 and "not declared" not in quiet.stderr


def test_a_file_that_cannot_be_read_is_a_problem_of_its_own(tmp_path: Path) -> None:
    # Found by trying the verbs: a symlink loop was a traceback, and a folder in a file's place
    # stopped validation at once with "Is a directory" and no fix.
    content = make_content(tmp_path, {"acme": "name: Acme\ndocuments:\n  privacy-policy:\n    url: https://a.b/\n"})
    (content / "services" / "loop.yaml").symlink_to("loop.yaml")
    (content / "services" / "folder.yaml").mkdir()
    found = problems_of(content)
    assert any("loop.yaml: cannot read: Too many levels of symbolic links (fix: " in p for p in found), found
    assert any("folder.yaml: cannot read: Is a directory (fix: " in p for p in found), found


def test_a_url_made_of_nested_yaml_aliases_is_reported_without_expanding_them(tmp_path: Path) -> None:
    # Found by trying the verbs: ten levels of nine aliases each is 9^10 items once printed in full,
    # and validate spun for minutes writing the message.
    levels = [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    bomb = "\n".join(["name: Acme", "a0: &a0 [l, l, l, l, l, l, l, l, l]", *levels, "documents:",
                      "  terms-of-service:", "    url: *a9", ""])
    content = make_content(tmp_path, {"acme": bomb})
    result = subprocess.run([sys.executable, "-m", "generator", "validate", "--content", str(content)],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 1
    assert "acme.yaml: documents.terms-of-service.url: not an http(s) URL: [[[...], [...]" in result.stderr
    assert len(result.stderr) < 5000


def test_a_document_types_file_that_does_not_load_is_its_one_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Found by review: a tab in document-types.yaml gave its own error and one "unknown document
    # type" per declared document and rule (28 problems).
    from generator.cli import main

    shutil.copytree(ROOT / "content", tmp_path / "content")
    types = tmp_path / "content/document-types.yaml"
    types.write_text("\t" + types.read_text())
    assert main(["validate", "--content", str(tmp_path / "content"),
                 "--archive", str(tmp_path / "no-archive")]) != 0
    err = capsys.readouterr().err
    assert "document-types.yaml" in err and "unknown document type" not in err, err
    with pytest.raises(ProblemsError) as caught:
        load_content(tmp_path / "content")
    assert len(caught.value.problems) == 1, caught.value.problems


def test_a_verb_run_from_another_folder_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Found by review: run from content/ itself, validate said to create site.yaml, categories.yaml,
    # label-mapping.yaml and a service declaration.
    from generator.cli import main

    assert main(["validate", "--content", str(tmp_path / "content")]) != 0
    err = capsys.readouterr().err
    assert f"{tmp_path / 'content'}: --content: no such folder (fix: run clausewatch from the project's " \
        "root folder, or pass --content DIR)" in err
    assert "site.yaml" not in err and err.count("no such folder") == 1, err


def test_a_selector_with_brackets_or_quotes_that_say_hover_is_valid(tmp_path: Path) -> None:
    # Found by review: the check for selectors that never match read "[0]" inside attribute values.
    declaration = ("name: Acme\ndocuments:\n  terms-of-service:\n    url: https://a.example/t\n"
                   "    select: ['div[data-x=\"[0]\"]', 'a[title=\":hover\"]', 'main']\n")
    content = make_content(tmp_path, {"acme": declaration})
    (content / "pages").mkdir(exist_ok=True)
    selectors = load_content(content).services[0].documents[0].pages[0].select
    assert selectors == ('div[data-x="[0]"]', 'a[title=":hover"]', "main")


@pytest.mark.parametrize("url", ["https://169.254.169.254/latest/meta-data", "https://10.0.0.5/terms",
                                 "https://192.168.1.1/", "https://metadata.google.internal/",
                                 "https://[fd00::1]/terms", "https://printer/terms", "https://nas.local/terms"])
def test_a_page_inside_a_network_is_refused(url: str, tmp_path: Path) -> None:
    """Found by review: validate accepted them, and the capture job would have fetched, signed and
    published what its own network answered (loopback stays allowed: tests and trials serve there)."""
    declared = "name: Acme\ndocuments:\n  terms-of-service:\n    url: {}\n"
    found = problems_of(make_content(tmp_path, {"acme": declared.format(url)}))
    assert any("acme.yaml: documents.terms-of-service.url" in p and "its own network answers there" in p
               and "declare the page's public address" in p for p in found), found
    for public in ("http://127.0.0.1:8080/t", "http://localhost/t", "http://[::1]/t", "https://example.org/t"):
        fine = make_content(tmp_path / public.split("/")[2].strip("[]:0123456789") / "x",
                            {"acme": declared.format(public)})
        assert load_content(fine).services[0].documents[0].pages[0].url == public
