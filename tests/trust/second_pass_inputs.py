"""Inputs for the second trust pass (issue 12): notebooks that leak a secret in every
encoding and into every kind of file, fail after writing results, or write malformed
results; and a spec wiring them with a gate on the failing notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml
from nbformat.v4 import new_code_cell, new_notebook

SECRET_ENV = "WB_TRUST2_TOKEN"
# every character class an encoder treats specially: HTML (& " ' < >), URL (+ / = space ;),
# JSON (" \\ non-ASCII), and base64's alphabet edges
SECRET = "Tok&en\"'<b> +/=ü;\\x-2025"

LEAK = r'''
import base64, html, json, urllib.parse
from pathlib import Path
from IPython.display import HTML, display
from workbench import io
print("html:", html.escape(token))
print("url:", urllib.parse.quote(token), urllib.parse.quote_plus(token))
print("json:", json.dumps(token), json.dumps(token, ensure_ascii=False))
for pre in ("", "a", "ab"):
    print("b64:", base64.b64encode((pre + "prefix:" + token + ":suffix").encode()).decode())
display(HTML("<p>" + html.escape(token) + "</p>"))
Path(results_dir, "leak-notes.txt").write_text("note " + token, encoding="utf-8")
Path(results_dir, "leak-blob.bin").write_bytes(b"\xff\xfe\x00" + token.encode())
Path(results_dir, "sub").mkdir(exist_ok=True)
Path(results_dir, "sub", "deep.json").write_text(json.dumps({"t": token}), encoding="utf-8")
io.write_results("leak", {"notebook": "leak", "status": "ok", "headline": "h " + token,
                          "metrics": {"n": 1}}, results_dir)
'''
MALFORMED = r'''
from pathlib import Path
print(token)
Path(results_dir, "malformed.results.json").write_text("{not json " + token, encoding="utf-8")
'''
FAILS_AFTER = r'''
from workbench import io
io.write_results("fails_after", {"notebook": "fails_after", "status": "ok", "headline": "fine",
                                 "metrics": {"ok": 1}}, results_dir)
raise RuntimeError("failed after writing its results")
'''


PARAMS = 'results_dir: str = "."\ntoken: str = ""'


def notebook(path: Path, body: str, params: str = PARAMS) -> Path:
    cell = new_code_cell(params)
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[cell, new_code_cell(body)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, path)
    return path


def second_pass_spec(root: Path, names: tuple[str, ...] = ("leak", "malformed", "fails_after"),
                     pack: str = "trust2") -> Path:
    bodies = {"leak": LEAK, "malformed": MALFORMED, "fails_after": FAILS_AFTER}
    notebooks = []
    for name in names:
        params = {"token": {"env": SECRET_ENV}} if name != "fails_after" else {}
        if name == "fails_after":
            path = notebook(root / f"{name}.ipynb", bodies[name], 'results_dir: str = "."')
        else:
            path = notebook(root / f"{name}.ipynb", bodies[name])
        notebooks.append({"name": name, "path": path.name, "parameters": params})
    spec = {"name": pack, "title": "Trust, second pass", "notebooks": notebooks}
    if "fails_after" in names:
        spec["gates"] = [{"id": "ok", "title": "The failing notebook's metric", "notebook":
                          "fails_after", "metric": "ok", "op": "==", "value": 1}]
    path = root / f"{pack}.yml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path
