"""Text from a module never runs as code (issue 12: a module name holding \"\"\" broke out of
the translation's docstring and ran on import and on engine="python").

Every name-bearing field of a module gets each hostile string in turn. The translation
must parse, be ASCII, and have the very shape (the same AST, node for node) of the
translation of the same module with harmless names; the only differences allowed are
string constants equal to the hostile text and identifiers whose readable tail changed.
Comments hold printable ASCII only. Importing the file from disk and running it on every
engine then creates no file and runs no process.
"""
from __future__ import annotations

import ast
import importlib.util
import io
import os
import re
import shlex
import sys
import threading
import tokenize

import pytest

import fayasm
import fayasm.runtime
from fayasm import engines as _engines
from fayasm.binary import encode
from fayasm.syntax import Custom
from fayasm.text.printer import print_module

ENGINES = _engines.available()

# {mark} becomes a path the payload would create if it ever ran.
PAYLOADS = [
    'x"""+str(__import__("os").system("touch {mark}"))+"""',
    "x'''+str(__import__('os').system('touch {mark}'))+'''",
    '\\"""+open("{mark}","w").close()+"""',
    "\\'+open('{mark}','w').close()+'",
    "a\nopen('{mark}', 'w')\n#",
    "a\ropen('{mark}', 'w')\r#",
    "a\r\nopen('{mark}', 'w')",
    "a\u2028open('{mark}', 'w')\u2029",
    "a\x0copen('{mark}', 'w')",
    "a\x85open('{mark}', 'w')",
    "\x00open('{mark}','w')\x00",
    "# coding: utf-7",
    "-*- coding: utf-7 -*- +AAo-open('{mark}','w')",
    "+ACcAKQ-open('{mark}','w')+ACM-",
    "__import__('os').system('touch {mark}')",
    "{{open('{mark}','w')}}", "%s%r{{0}}", "\\", "\\x41\\u0041\\N{{LATIN SMALL LETTER A}}",
    "class", "def", "None", "lambda", "__init__", "__class__", "__dict__", "__builtins__",
    "__import__", "keys", "_items", "", " ", "@", "a@b", "$", "(;", ";)", "\"", "'",
    "\ufeff", "\U0001f600", "é\u0301", "\u202e", "]]>", ";", "%", "\t", "x" * 300,
]
# Lone surrogates cannot be UTF-8 (so no binary carries them); they reach a module's
# name through a file name (os.fsdecode) or Module(..., name=).
NAME_ONLY = ["\udcff", "a\ud800b", "\udcc3\udca9"]

FIELDS = ["module", "func", "import_func", "local", "param", "global", "cell_global", "type",
          "table", "memory", "data", "elem", "tag", "import_module", "import_field",
          "export_func", "export_memory", "export_table", "export_global", "custom"]

BASE = """(module
  (type $t (func (param i32) (result i32)))
  (import "im" "if" (func $imp (param i32)))
  (memory $mem 1)
  (table $tab 2 funcref)
  (global $g (mut i32) (i32.const 5))
  (global $cell (mut i32) (i32.const 7))
  (func $f (type $t) (local $l i32)
    (call $imp (local.get 0))
    (local.set $l (i32.add (global.get $cell) (local.get 0)))
    (global.set $cell (local.get $l))
    (global.set $g (i32.add (global.get $g) (local.get 0)))
    (i32.add (global.get $g) (local.get $l)))
  (elem $e (i32.const 0) func $f)
  (data $d (i32.const 0) "hi")
  (export "EF" (func $f)) (export "EM" (memory $mem)) (export "ET" (table $tab))
  (export "EG" (global $g)))"""


def _binary(values: dict[str, str]) -> bytes:
    """BASE with ``values[field]`` in every name-bearing field."""
    syntax = fayasm.Module(BASE).syntax
    n = syntax.names
    n.module = values["module"]
    n.funcs = {0: values["import_func"], 1: values["func"]}
    n.locals = {1: {0: values["param"], 1: values["local"]}}
    n.globals = {0: values["global"], 1: values["cell_global"]}
    n.types, n.tables, n.mems = {0: values["type"]}, {0: values["table"]}, {0: values["memory"]}
    n.datas, n.elems, n.tags = {0: values["data"]}, {0: values["elem"]}, {0: values["tag"]}
    syntax.imports[0].module = values["import_module"]
    syntax.imports[0].name = values["import_field"]
    for e in syntax.exports:
        e.name = values[f"export_{e.kind}"]
    syntax.customs.append(Custom(values["custom"], values["custom"].encode("utf-8", "replace")))
    return encode(syntax, names=True)


def _values(text: str) -> dict[str, str]:
    """``text`` in every field; the four exports stay distinct."""
    v = {f: text for f in FIELDS}
    for kind in ("memory", "table", "global"):
        v[f"export_{kind}"] = f"{text}<{kind}>"
    v["import_func"], v["cell_global"] = f"{text}<import>", f"{text}<cell>"
    return v


def _benign() -> dict[str, str]:
    v = {f: f"QQ{k:02d}QQ" for k, f in enumerate(FIELDS)}
    return v


def _hostile(k: int, payload: str, tmp_path) -> tuple[str, str]:
    mark = str(tmp_path / f"PWNED{k}")
    return payload.replace("{mark}", mark).replace("{{", "{").replace("}}", "}"), mark


_TAIL = re.compile(r"^([A-Za-z_]+?\d+)_.*$")


def _shape(value):
    return _TAIL.sub(r"\1", value) if isinstance(value, str) else value


def _assert_same_shape(hostile_src: str, benign_src: str, subst: dict[str, str]) -> int:
    """The two translations are one AST but for module text; returns how many nodes
    carried module text."""
    nh, nb = list(ast.walk(ast.parse(hostile_src))), list(ast.walk(ast.parse(benign_src)))
    assert len(nh) == len(nb)
    carried = 0
    for a, b in zip(nh, nb):
        assert type(a) is type(b), (ast.dump(a)[:200], ast.dump(b)[:200])
        for name in a._fields:
            va, vb = getattr(a, name), getattr(b, name)
            if isinstance(va, (ast.AST, list)) and not (isinstance(va, list) and va
                                                         and isinstance(va[0], str)):
                if isinstance(va, list):
                    assert len(va) == len(vb)
                continue
            if isinstance(a, ast.Constant) and name == "value" and isinstance(vb, str):
                expected = vb
                for token, text in subst.items():
                    expected = expected.replace(token, text)
                if va != expected:  # an identifier quoted as a string (_WASM_NAMES keys)
                    assert vb.isidentifier() and va.isidentifier() and va.isascii(), va
                    assert _shape(va) == _shape(vb), (va, vb)
                carried += va != vb
            elif isinstance(va, list):  # global / nonlocal names
                assert [_shape(x) for x in va] == [_shape(x) for x in vb]
                assert all(x.isascii() and x.isidentifier() for x in va)
            elif isinstance(va, str) and name in ("id", "name", "arg", "attr", "asname"):
                assert _shape(va) == _shape(vb), (va, vb)
                assert va.isascii() and va.isidentifier()
                carried += va != vb
            else:
                assert va == vb, (name, va, vb)
    return carried


def _comments(src: str) -> list[str]:
    return [t.string for t in tokenize.generate_tokens(io.StringIO(src).readline)
            if t.type == tokenize.COMMENT]


class _Watch:
    """Records audit events that would mean guest text ran: processes, writes, sockets.
    Only the watching thread's: the jit's background O2 thread, left from an earlier
    test, starts its worker process at any time, and that is fayasm's own doing."""

    events: list | None = None
    thread: int | None = None
    BAD = ("os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork", "subprocess.",
           "socket.", "os.remove", "os.rename", "os.mkdir", "shutil.", "ctypes.dlopen",
           "os.chmod", "os.truncate", "webbrowser.")

    @classmethod
    def hook(cls, event, args):
        if cls.events is None or threading.get_ident() != cls.thread:
            return
        if event.startswith(cls.BAD):
            cls.events.append((event, args))
        elif event == "open" and len(args) > 1 and isinstance(args[1], str) and \
                any(c in args[1] for c in "wax+"):
            cls.events.append((event, args))

    def __enter__(self):
        type(self).thread = threading.get_ident()
        type(self).events = []
        return self

    def __exit__(self, *exc):
        self.seen, type(self).events = type(self).events, None


sys.addaudithook(_Watch.hook)


class _Calls:
    """Profiles a block: which code outside fayasm.runtime and the translated file it calls."""

    RUNTIME = os.path.dirname(fayasm.runtime.__file__) + os.sep
    # Python code the runtime itself uses: abc and enum checks, dataclass __init__s.
    LIBRARY = ("<frozen abc>", "<frozen _collections_abc>", "<string>", __file__,
               "<frozen importlib._bootstrap>")  # the runtime's function-level imports
    FORBIDDEN_C = frozenset({"exec", "eval", "compile", "__import__", "open", "system",
                            "breakpoint"})

    def __init__(self, generated):
        self.generated = str(generated)
        self.outside: set = set()

    def profile(self, frame, event, arg):
        if event == "call":
            f = frame.f_code.co_filename
            if not (f.startswith(self.RUNTIME) or f == self.generated or f in self.LIBRARY
                    or f.endswith(os.sep + "enum.py")):
                self.outside.add(f)
        elif event == "c_call" and getattr(arg, "__name__", "") in self.FORBIDDEN_C:
            self.outside.add(f"{getattr(arg, '__module__', '')}.{arg.__name__}")

    def __enter__(self):
        sys.setprofile(self.profile)
        return self

    def __exit__(self, *exc):
        sys.setprofile(None)


def _outside(events, cache) -> list:
    """The events not explained by fayasm writing its own translation cache."""
    return [e for e in events if not str(e[1][0]).startswith(str(cache) + os.sep)
            and str(e[1][0]) != str(cache)]


def _call_all(inst, values):
    ex = inst.exports
    assert set(ex) == {values[f"export_{k}"] for k in ("func", "memory", "table", "global")}
    assert ex[values["export_func"]](3) == (5 + 3) + (7 + 3)
    assert ex[values["export_global"]].value == 8
    assert ex[values["export_memory"]].read(0, 2) == b"hi"
    assert ex[values["export_table"]] is not None
    name = values["export_func"]
    if name.isidentifier() and not (name.startswith("__") and name.endswith("__")) \
            and name not in ("keys", "items", "values", "get"):
        assert getattr(ex, name)(3) == (8 + 3) + (10 + 3)  # keywords too, through getattr


def _imports(values, log):
    return {values["import_module"]: {values["import_field"]: lambda x: log.append(x)}}


def test_module_name_cannot_break_out_of_the_translations_docstring(tmp_path):
    """The bug as reported: this module name ran os.system on import and on engine=python."""
    mark = tmp_path / "PWNED"
    name = f'x"""+str(__import__("os").system("touch {mark}"))+"""'
    module = fayasm.Module(_binary(_values(name)))
    assert module.name == name
    src = fayasm.translate(module)
    ast.parse(src)
    path = tmp_path / "translated.py"
    path.write_text(src)
    spec = importlib.util.spec_from_file_location("translated_hostile", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.MODULE_NAME == name
    log: list = []
    _call_all(mod.instantiate(_imports(_values(name), log)), _values(name))
    _call_all(fayasm.instantiate(module, _imports(_values(name), log), engine="python"),
              _values(name))
    assert not mark.exists()


def test_hostile_names_in_every_field_translate_to_the_same_shape(tmp_path, monkeypatch):
    monkeypatch.setenv("FAYASM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    benign = _benign()
    benign_src = fayasm.translate(fayasm.Module(_binary(benign)))
    tried = carried = 0
    for k, payload in enumerate(PAYLOADS):
        text, mark = _hostile(k, payload, tmp_path)
        values = _values(text)
        module = fayasm.Module(_binary(values))
        src = fayasm.translate(module)
        assert src.isascii()
        subst = {benign[f]: values[f] for f in FIELDS}
        subst[benign["module"]] = module.name  # "module" when the name section's is empty
        carried += _assert_same_shape(src, benign_src, subst)
        lines, blines = src.splitlines(), benign_src.splitlines()
        assert lines[0] == blines[0]  # PEP 263 looks at lines 1 and 2
        for c in _comments(src):
            assert c.isascii() and c.isprintable() and not re.search(r"coding[:=]", c), c
        path = tmp_path / f"hostile{k}.py"
        path.write_text(src, encoding="ascii")
        with _Watch() as w:
            spec = importlib.util.spec_from_file_location(f"fayasm_hostile_{k}", path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            log: list = []
            with _Calls(path) as calls:
                _call_all(mod.instantiate(_imports(values, log)), values)
            assert calls.outside == set(), calls.outside
            for _ in range(2):  # translated in memory, then from the disk cache
                _call_all(fayasm.instantiate(fayasm.Module(_binary(values)),
                                             _imports(values, log), engine="python"), values)
        assert _outside(w.seen, tmp_path / "cache") == []
        assert mod.MODULE_NAME == module.name == (text or "module")
        assert not os.path.exists(mark)
        tried += 1
    assert tried == len(PAYLOADS)
    assert carried >= len(PAYLOADS)  # the names did reach the source, quoted


def _subst_for_suffixes(benign, values):
    return {benign[f]: values[f] for f in FIELDS}


def test_hostile_names_run_on_every_engine(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("FAYASM_CACHE_DIR", str(tmp_path / "cache"))
    for k, payload in enumerate(PAYLOADS):
        text, mark = _hostile(k, payload, tmp_path)
        values = _values(text)
        log: list = []
        with _Watch() as w:
            inst = fayasm.instantiate(fayasm.Module(_binary(values)), _imports(values, log),
                                      engine=engine)
            _call_all(inst, values)
        assert log[0] == 3
        assert _outside(w.seen, tmp_path / "cache") == [] and not os.path.exists(mark)


def test_jit_ir_holds_no_module_text():
    from fayasm.translator.llvm.module import ModuleEmitter

    for payload in PAYLOADS:
        text = payload.replace("{mark}", "/tmp/x")
        module = fayasm.Module(_binary(_values(text)))
        ir = ModuleEmitter(module).text()
        head, rest = ir.split("\n", 1)
        assert head.isascii() and head.isprintable()
        if len(text) > 3 and text.isascii():
            assert text not in rest


@pytest.mark.parametrize("text", NAME_ONLY + ["a\nb\"\"\"c", "coding: utf-7"])
def test_hostile_file_names_and_given_names(text, tmp_path):
    binary = _binary(_values("plain"))
    names = [fayasm.Module(binary, name=text).name]
    try:
        raw = os.fsencode(text.replace("\n", "_")) + b".wasm"
    except UnicodeEncodeError:  # only U+DC80-U+DCFF stand for undecodable file-name bytes
        raw = None
    if raw is not None:
        path = os.path.join(os.fsencode(str(tmp_path)), raw)
        with open(path, "wb") as f:
            f.write(binary)
        names.append(fayasm.Module.from_file(os.fsdecode(path)).name)
    for name in names:
        module = fayasm.Module(binary, name=name)
        src = fayasm.translate(module)
        assert src.isascii()
        ns: dict = {"__name__": "x"}
        exec(compile(src, "<x>", "exec"), ns)
        assert ns["MODULE_NAME"] == name
        for engine in ENGINES:
            log: list = []
            _call_all(fayasm.instantiate(module, _imports(_values("plain"), log), engine=engine),
                      _values("plain"))


def test_printed_names_parse_back_to_the_same_module():
    for payload in PAYLOADS:
        text = payload.replace("{mark}", "/tmp/x")
        module = fayasm.Module(_binary(_values(text)))
        wat = print_module(module.syntax)
        again = fayasm.Module(wat)
        ours, theirs = module.syntax, again.syntax
        ours_no_custom = fayasm.Module(encode(ours)).syntax
        ours_no_custom.customs = []
        theirs.customs = []
        assert theirs == ours_no_custom
        assert [e.name for e in theirs.exports] == [e.name for e in ours.exports]
        assert [(i.module, i.name) for i in theirs.imports] == \
            [(i.module, i.name) for i in ours.imports]
        # A name that can be an id is printed as one and comes back.
        if re.fullmatch(r"[0-9A-Za-z!#$%&'*+\-./:<=>?@\\^_`|~]+", text):
            assert again.syntax.names.funcs.get(1) == text
            assert again.syntax.names.globals.get(0) == text


def test_repro_commands_are_shell_quoted(tmp_path):
    from fayasm.testing.campaign import repro_command

    corpus = tmp_path / "my corpus; rm -rf ~ $(touch x) 'q'"
    argv = shlex.split(repro_command(str(corpus / "case.wasm"), "jit,python", wasmtime=False))
    assert argv == ["fayasm", "diff", str(corpus / "case.wasm"), "--engines", "jit,python",
                    "--no-wasmtime"]


def test_corpus_file_names_hold_no_module_text():
    from fayasm.testing.campaign import _slug

    for payload in PAYLOADS + ["../../etc/passwd", "..", "a/b\\c"]:
        slug = _slug(payload)
        assert re.fullmatch(r"[A-Za-z0-9_.-]*", slug) and ".." not in slug and len(slug) <= 60


def test_export_names_cannot_reach_the_mappings_internals():
    """Exports named like the mapping's attributes (issue 23): indexing reaches every
    export, attributes reach exports except the four mapping methods and dunders, and
    nothing internal is reachable."""
    names = ["keys", "get", "items", "values", "_items", "__class__", "__init__", "__len__",
             "_Exports__items", "__dict__", "class"]
    wat = "(module " + " ".join(
        f'(func (export "{n}") (result i32) (i32.const {k}))' for k, n in enumerate(names)) + ")"
    for engine in ENGINES:
        ex = fayasm.instantiate(fayasm.Module(wat), engine=engine).exports
        for k, n in enumerate(names):
            assert ex[n]() == k
        assert ex._items() == 4 and ex._Exports__items() == 8 and getattr(ex, "class")() == 10
        assert len(ex) == len(names) and list(ex) == names and set(dict(ex)) == set(names)
        assert callable(ex.keys) and list(ex.keys()) == names  # the method, by the rule
        with pytest.raises(AttributeError):
            ex.foo = 1
    empty = fayasm.instantiate(fayasm.Module("(module)"), engine=ENGINES[0]).exports
    for internal in ("_items", "_Exports__items", "_PUBLIC"):
        with pytest.raises(AttributeError):
            getattr(empty, internal)


def test_the_attribute_table_of_exports_is_not_reachable_either():
    """Exports keep the names reached as attributes in a second table (the fast path of
    ``exports.name``): it is as unreachable as the first, and an export of its name is
    reached like any other."""
    empty = fayasm.instantiate(fayasm.Module("(module)"), engine=ENGINES[0]).exports
    with pytest.raises(AttributeError):
        empty._Exports__attrs  # noqa: B018
    wat = '(module (func (export "_Exports__attrs") (result i32) (i32.const 7)))'
    for engine in ENGINES:
        ex = fayasm.instantiate(fayasm.Module(wat), engine=engine).exports
        assert ex._Exports__attrs() == 7 and ex["_Exports__attrs"]() == 7
