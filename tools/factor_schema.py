"""The factor-set schema (src/factors/schema.toml) for Python: its reader and its rules engine.

A line-for-line port of src/factors/schema.rs, so that tools/build_factor_set.py writes the
columns, in the order, and sorted by the keys, that the schema defines, and checks what it wrote
with the same rules the tool loads a set with (the same problems, word for word: the test
factor_build::the_builder_and_the_tool_find_the_same_problems compares both on a broken set).

Python 3.11+ standard library only (tomllib). A key, column type or rule kind this reader does
not know is refused, as the Rust reader refuses it.
"""

import csv
import io
import math
import re
import sys
from datetime import date
from pathlib import Path

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "src" / "factors" / "schema.toml"

TYPES = {"text", "number", "integer", "year", "date"}
# rule kind -> (required keys, optional keys)
RULES = {
    "one_of": ({"column", "values", "message"}, set()),
    "refers": ({"column", "to", "message"}, {"split", "fold_case"}),
    "range": ({"column", "message"}, {"min", "above", "max"}),
    "ordered": ({"columns", "message"}, {"min", "above"}),
    "between": ({"column", "bounds", "message"}, set()),
    "required_if": ({"when_column", "when_value", "columns", "message"}, set()),
    "has_row": ({"column", "values", "message"}, set()),
}


class SchemaError(Exception):
    pass


def _keys(where, table, required, optional=frozenset()):
    missing = set(required) - set(table)
    unknown = set(table) - set(required) - set(optional)
    if missing or unknown:
        raise SchemaError(f"{SCHEMA_PATH}: {where}: missing {sorted(missing)}, unknown {sorted(unknown)}")


def load(path=SCHEMA_PATH):
    """The schema as a dict, its structure checked like serde's deny_unknown_fields."""
    try:
        import tomllib
    except ImportError:
        sys.exit("Python 3.11 or newer is needed (tomllib) to read " + str(path))
    with open(path, "rb") as f:
        s = tomllib.load(f)
    _keys("top level", s, {"years", "extra_files", "file"})
    for f in s["file"]:
        _keys("file " + str(f.get("name")), f, {"name", "required", "key", "columns"}, {"fold_key", "rule"})
        for c in f["columns"]:
            _keys(f["name"] + " column " + str(c.get("name")), c, {"name", "type"},
                  {"may_be_empty", "may_be_absent"})
            if c["type"] not in TYPES:
                raise SchemaError(f"{f['name']}: column {c['name']}: unknown type {c['type']!r}")
        for r in f.get("rule", []):
            kind = r.get("kind")
            if kind not in RULES:
                raise SchemaError(f"{f['name']}: unknown rule kind {kind!r}")
            req, opt = RULES[kind]
            _keys(f["name"] + " rule " + kind, r, req | {"kind"}, opt)
    return s


def file_schema(schema, name):
    return next((f for f in schema["file"] if f["name"] == name), None)


def header(schema, name):
    """The columns of a file, in the order the builder writes them."""
    return [c["name"] for c in file_schema(schema, name)["columns"]]


def key(schema, name):
    return tuple(file_schema(schema, name)["key"])


# ----------------------------------------------------------------------------------------------
# the engine (src/factors/schema.rs check_files)

def show(p):
    """A problem as the tool prints it: `file row N: message` or `file: message`."""
    f, row, msg = p
    return f"{f} row {row}: {msg}" if row is not None else f"{f}: {msg}"


def _sort_key(p):
    return (p[0], (0, 0) if p[1] is None else (1, p[1]), p[2])


# Rust's csv Trim::All trims ASCII whitespace (u8::is_ascii_whitespace).
_WS = " \t\n\r\x0c"
# Rust's f64::from_str, less inf and NaN (not finite): sign, digits with one point, exponent.
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER = re.compile(r"[+-]?\d+")
_DATE = re.compile(r"([+-]?\d+)-(\d{1,2})-(\d{1,2})")


def _number(v):
    if not _NUMBER.fullmatch(v):
        return None
    x = float(v)
    return x if math.isfinite(x) else None


def _integer(v):
    if not _INTEGER.fullmatch(v):
        return None
    x = int(v)
    return x if -(2 ** 63) <= x < 2 ** 63 else None


class Table:
    def __init__(self, text):
        records = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
        self.header = [h.strip(_WS) for h in records[0]] if records else []
        self.rows, self.bad = [], []
        for i, r in enumerate(records[1:]):
            row = i + 2
            if len(r) == len(self.header):
                self.rows.append((row, [c.strip(_WS) for c in r]))
            else:
                self.bad.append((row, f"{len(r)} fields where the header has {len(self.header)}"))

    def col(self, name):
        return self.header.index(name) if name in self.header else None

    def get(self, cells, name):
        i = self.col(name)
        return cells[i] if i is not None and i < len(cells) else ""

    def num(self, cells, name):
        return _number(self.get(cells, name))

    def key(self, cells, key):
        cols = list(key) if key else self.header[:1]
        return " ".join(self.get(cells, c) for c in cols)


def check_files(schema, files):
    """Every problem of a set given as {relative path: content}, sorted: (file, row, message)."""
    out = []
    years = schema["years"]
    names = [f["name"] for f in schema["file"]]
    required = [f["name"] for f in schema["file"] if f["required"]]
    optional = [f["name"] for f in schema["file"] if not f["required"]] + schema["extra_files"]
    for name in files:
        if name not in names and name not in schema["extra_files"]:
            out.append((name, None, "unknown file (a set holds " + ", ".join(required)
                        + " and optionally " + ", ".join(optional) + ")"))
    tables = {}
    for f in schema["file"]:
        text = files.get(f["name"])
        if text is None:
            if f["required"]:
                out.append((f["name"], None, "missing from the set"))
            continue
        if text.startswith("\ufeff"):
            out.append((f["name"], 1, "starts with a byte-order mark: save it as UTF-8 without BOM"))
        t = Table(text)
        for row, why in t.bad:
            out.append((f["name"], row, why))
        _check_cells(years, f, t, out)
        tables[f["name"]] = t
    for f in schema["file"]:
        if f["name"] in tables:
            _check_rows(f, tables[f["name"]], tables, out)
    out.sort(key=_sort_key)
    return [p for i, p in enumerate(out) if i == 0 or p != out[i - 1]]


def _check_cells(years, f, t, out):
    name = f["name"]
    seen = set()
    for h in t.header:
        if h in seen:
            out.append((name, 1, f"column '{h}' appears twice"))
        seen.add(h)
        if not any(c["name"] == h for c in f["columns"]):
            out.append((name, 1, f"unknown column '{h}'"))

    def year_ok(y):
        return y is not None and years[0] <= y <= years[1]

    for c in f["columns"]:
        if t.col(c["name"]) is None:
            if not c.get("may_be_absent", False):
                out.append((name, 1, f"column '{c['name']}' missing"))
            continue
        for row, cells in t.rows:
            v = t.get(cells, c["name"])
            bad = None
            if v == "":
                if not c.get("may_be_empty", False):
                    bad = "is empty"
            elif c["type"] == "number" and _number(v) is None:
                bad = f"'{v}' is not a number"
            elif c["type"] == "integer" and _integer(v) is None:
                bad = f"'{v}' is not a whole number"
            elif c["type"] == "year" and not year_ok(_integer(v)):
                bad = f"year '{v}' is not plausible ({years[0]}–{years[1]})"
            elif c["type"] == "date":
                m = _DATE.fullmatch(v)
                try:
                    ok = m is not None and year_ok(date(int(m[1]), int(m[2]), int(m[3])).year)
                except ValueError:
                    ok = False
                if not ok:
                    bad = f"'{v}' is not a plausible date YYYY-MM-DD"
            if bad is not None:
                out.append((name, row, f"{c['name']}: {bad}"))


def _fill(message, t, cells, column, value, values):
    m = message.replace("{value}", value).replace("{column}", column).replace("{values}", values)
    if cells is not None:
        for h in t.header:
            m = m.replace("{" + h + "}", t.get(cells, h))
    return m


def _check_rows(f, t, tables, out):
    name = f["name"]
    first = {}
    for row, cells in t.rows:
        k = t.key(cells, f["key"])
        if f.get("fold_key", False):
            k = k.lower()
        if k.strip() == "":
            continue
        if k in first:
            out.append((name, row, f"duplicate {' and '.join(f['key'])} '{k}' (also row {first[k]})"))
        else:
            first[k] = row

    for r in f.get("rule", []):
        kind, message = r["kind"], r["message"]
        if kind == "one_of":
            for row, c in t.rows:
                v = t.get(c, r["column"])
                if v != "" and v not in r["values"]:
                    out.append((name, row, _fill(message, t, c, r["column"], v, "")))
        elif kind == "refers":
            to_file, _, to_col = r["to"].partition(":")
            target = tables.get(to_file)
            if target is None:
                continue
            fold = (lambda v: v.lower()) if r.get("fold_case", False) else (lambda v: v)
            known = {fold(target.get(c, to_col)) for _, c in target.rows}
            for row, c in t.rows:
                cell = t.get(c, r["column"])
                if cell == "":
                    continue
                parts = [p.strip() for p in cell.split(r["split"])] if "split" in r else [cell]
                for v in parts:
                    if fold(v) not in known:
                        out.append((name, row, _fill(message, t, c, r["column"], v, "")))
        elif kind == "range":
            for row, c in t.rows:
                v = t.num(c, r["column"])
                if v is None:
                    continue
                if ("min" in r and v < r["min"]) or ("above" in r and v <= r["above"]) or \
                        ("max" in r and v > r["max"]):
                    out.append((name, row, _fill(message, t, c, r["column"], t.get(c, r["column"]), "")))
        elif kind == "ordered":
            for row, c in t.rows:
                nums = [t.num(c, n) for n in r["columns"]]
                if any(x is None for x in nums):
                    continue
                if any(a > b for a, b in zip(nums, nums[1:])) or ("min" in r and nums[0] < r["min"]) \
                        or ("above" in r and nums[0] <= r["above"]):
                    values = ", ".join(n + " " + t.get(c, n) for n in r["columns"])
                    out.append((name, row, _fill(message, t, c, "", "", values)))
        elif kind == "between":
            a_col, b_col = r["bounds"]
            for row, c in t.rows:
                v, a, b = t.num(c, r["column"]), t.num(c, a_col), t.num(c, b_col)
                if v is None or a is None or b is None:
                    continue
                if v < min(a, b) or v > max(a, b):
                    out.append((name, row, _fill(message, t, c, r["column"], t.get(c, r["column"]), "")))
        elif kind == "required_if":
            for row, c in t.rows:
                if t.get(c, r["when_column"]) == r["when_value"] and \
                        any(t.get(c, n) == "" for n in r["columns"]):
                    out.append((name, row, _fill(message, t, c, r["when_column"], r["when_value"], "")))
        elif kind == "has_row":
            for v in r["values"]:
                if not any(t.get(c, r["column"]) == v for _, c in t.rows):
                    out.append((name, None, _fill(message, t, None, r["column"], v, "")))
        else:  # load() refuses unknown kinds; never reached
            raise SchemaError("unknown rule kind " + kind)


def read_folder(folder):
    """{name: text} of a set folder and its unreadable entries, as the tool reads a folder."""
    files, problems = {}, []
    for p in sorted(Path(folder).iterdir()):
        # What file managers and editors leave in a folder (.DS_Store, .git) is not the set's.
        if p.name.startswith("."):
            continue
        if p.is_dir():
            problems.append((p.name, None, "unknown folder (a set is a flat folder of files)"))
            continue
        try:
            with open(p, encoding="utf-8", newline="") as f:
                files[p.name] = f.read()
        except (OSError, UnicodeDecodeError) as e:
            problems.append((p.name, None, f"cannot read: {e}"))
    return files, problems
