"""Content-hashed static names: a change anywhere a file depends on renames it."""
from __future__ import annotations

import gzip

import pytest

from comongus.static_files import StaticFiles


def write(folder, files):
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


MODULES = {
    "js/i18n.js": "export const hello = 'hello';\n",
    "js/view.js": 'import { hello } from "./i18n.js";\nexport const shout = hello + "!";\n',
    "js/page.js": 'import { shout } from "./view.js";\nimport("./i18n.js");\nconsole.log(shout);\n',
    "css/site.css": "body { color: black; }\n" * 50,
}


def test_a_changed_file_gets_a_new_name_and_so_do_its_importers(tmp_path):
    write(tmp_path, MODULES)
    before = StaticFiles(str(tmp_path))
    write(tmp_path, {"js/i18n.js": "export const hello = 'bonjour';\n"})
    after = StaticFiles(str(tmp_path))
    for name in ("js/i18n.js", "js/view.js", "js/page.js"):
        assert before.hashed_name(name) != after.hashed_name(name), name
    assert before.hashed_name("css/site.css") == after.hashed_name("css/site.css")


def test_modules_import_each_other_by_hashed_name(tmp_path):
    write(tmp_path, MODULES)
    files = StaticFiles(str(tmp_path))
    page = files.by_name["js/page.js"].body.decode()
    view_name = files.hashed_name("js/view.js").split("/")[-1]
    i18n_name = files.hashed_name("js/i18n.js").split("/")[-1]
    assert f'from "./{view_name}"' in page and f'import("./{i18n_name}")' in page
    assert files.hashed_name("js/page.js").startswith("js/page.")


def test_compressible_files_are_kept_gzipped_when_that_is_smaller(tmp_path):
    write(tmp_path, MODULES)
    files = StaticFiles(str(tmp_path))
    css = files.by_name["css/site.css"]
    assert gzip.decompress(css.gzipped) == css.body and len(css.gzipped) < len(css.body)
    assert files.by_name["js/i18n.js"].gzipped is None  # too small to gain


def test_an_import_cycle_is_refused_at_start(tmp_path):
    write(tmp_path, {"js/a.js": 'import "./b.js";\n', "js/b.js": 'import "./a.js";\n'})
    with pytest.raises(ValueError, match="cycle"):
        StaticFiles(str(tmp_path))
