#!/usr/bin/env python3
"""Writes the bad-input corpus tests/fixtures/bad/ (Python 3.11 standard library only).

Each file is one kind of bad input; tests/fixtures/bad/EXPECTED.toml says what must happen to
it and tests/it/bad_inputs.rs checks it by running the real binary. Run from the repository
root:

    python3 tools/make_bad_fixtures.py

Three files need outside programs, and are only rewritten when these are found (otherwise the
committed copies stay):
  * valid.xls, valid.ods, xls_cell_at_far_corner.xls: LibreOffice
    (`soffice --headless --convert-to ...`);
  * password_protected.xlsx: msoffcrypto-tool, installed into a throwaway virtual environment
    (python3 -m venv) that is deleted afterwards.
The Parquet cases (parquet_*.parquet) are written by tools/make_parquet_fixtures.py, which
needs pyarrow. The huge cases (a 10 MB line, zip bombs), symlinks, a folder and an unreadable file are made
by the test itself in a temporary folder, to keep the repository small.
"""

import gzip
import io
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

OUT = os.path.join("tests", "fixtures", "bad")
HEADER = "start_time,end_time,model,input_tokens,output_tokens,num_model_requests,project_id"
GOOD = "1768435200,1768521600,gpt-4o,1000,500,1,proj_a"  # 2026-01-15, in 2026Q1


def write(name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def csv(*rows):
    return "\n".join([HEADER, *rows]) + "\n"


def text_cases():
    write("truncated_mid_row.csv", csv(GOOD)[:-1] + "\n1768435200,1768521600,gpt-4o,10")
    write("truncated_in_quotes.csv", csv(GOOD) + '1768435200,1768521600,"gpt-4o,10,5,1,p\n')
    write(
        "ragged_rows.csv",
        csv(GOOD, "1768435200,1768521600,gpt-4o", GOOD + ",extra,cells,here"),
    )
    rnd = random.Random(9)
    write("binary_garbage.csv", bytes(rnd.randrange(256) for _ in range(4096)))
    write("nul_bytes.csv", csv(GOOD).replace("proj_a", "pro\0j_a"))
    # Valid UTF-8 for 70,000 bytes (past the 64 KiB sniff window), then a row whose project
    # is not UTF-8: that row is rejected, the others are used.
    filler = [GOOD.replace("proj_a", f"proj_{i:05}") for i in range(1500)]
    body = csv(*filler).encode()
    assert len(body) > 70_000
    write("invalid_utf8_in_the_middle.csv", body + b"1768435200,1768521600,gpt-4o,7,3,1,caf\xe9\xff\n")
    write(
        "formulas_in_text_cells.csv",
        csv(
            '1768435200,1768521600,"=HYPERLINK(""http://x"",""y"")",1000,500,1,p1',
            "1768435200,1768521600,gpt-4o,1000,500,1,+cmd|' /C calc'!A0",
            "1768435200,1768521600,gpt-4o,1000,500,1,-2+3",
            "1768435200,1768521600,gpt-4o,1000,500,1,@SUM(1)",
        ),
    )
    write("formula_in_a_number_cell.csv", csv(GOOD, "1768435200,1768521600,gpt-4o,=1+1,5,1,p"))
    write("number_1e309.csv", csv(GOOD, "1768435200,1768521600,gpt-4o,1e309,5,1,p"))
    write("number_nan.csv", csv(GOOD, "1768435200,1768521600,gpt-4o,NaN,5,1,p"))
    write("number_inf.csv", csv(GOOD, "1768435200,1768521600,gpt-4o,1000,-inf,1,p"))
    write("number_minus_zero.csv", csv(GOOD, "1768435200,1768521600,gpt-4o,-0,-0.0,1,p"))
    write("number_fraction.csv", csv(GOOD, "1768435200,1768521600,gpt-4o,10.5,5,1,p"))
    write(
        "tokens_20_digits.csv",
        csv(GOOD, "1768435200,1768521600,gpt-4o,12345678901234567890123,5,1,p"),
    )
    # Each row fits in 64 bits (10^19 < 2^64 - 1 = 18,446,744,073,709,551,615); the two sum
    # to 2 × 10^19, which does not.
    write(
        "tokens_sum_overflows.csv",
        csv(
            "1768435200,1768521600,gpt-4o,10000000000000000000,5,1,p",
            "1768435200,1768521600,gpt-4o,10000000000000000000,5,1,q",
        ),
    )
    write(
        "date_year_1900.csv",
        csv(GOOD, "1900-01-01,1900-01-02,gpt-4o,10,5,1,p"),
    )
    write(
        "date_year_9999.csv",
        csv(GOOD, "9999-12-31,9999-12-31,gpt-4o,10,5,1,p"),
    )
    write(
        "date_epoch_out_of_range.csv",
        csv(GOOD, "99999999999999999,1768521600,gpt-4o,10,5,1,p"),
    )
    write("date_february_30.csv", csv(GOOD, "2026-02-30,2026-02-31,gpt-4o,10,5,1,p"))
    write("empty.csv", b"")
    write("header_only.csv", HEADER + "\n")
    write("whitespace_only.csv", "   \n\t\n  \n")
    write("bom_only.csv", b"\xef\xbb\xbf")
    write("utf16_odd_length.csv", b"\xff\xfe" + csv(GOOD).encode("utf-16-le") + b"\x41")
    write("many_columns_in_a_row.csv", csv(GOOD, GOOD + "," * 100_000))
    write("stray_quotes.csv", csv(GOOD, '1768435200,1768521600,gp"t-4o,10,5,1,p"x"'))
    write("cr_only_line_endings.csv", csv(GOOD).replace("\n", "\r"))
    gz = gzip.compress(csv(GOOD, GOOD.replace("proj_a", "proj_b")).encode(), mtime=0)
    write("gzip_truncated.csv.gz", gz[: len(gz) // 2])
    write("gzip_garbage.csv.gz", b"\x1f\x8b\x08\x00" + bytes(rnd.randrange(256) for _ in range(512)))
    write("html_saved_as.xls", "<html><body><table><tr><td>start_time</td></tr></table></body></html>\n")
    write("csv_named_xlsx.xlsx", csv(GOOD))


def zip_bytes(parts, stored_first=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        if stored_first:
            z.writestr(zipfile.ZipInfo(stored_first[0], (2026, 1, 1, 0, 0, 0)), stored_first[1],
                       compress_type=zipfile.ZIP_STORED)
        for name, data in parts:
            z.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def cell_xml(ref, value, style=None):
    s = f' s="{style}"' if style is not None else ""
    if isinstance(value, str) and value.startswith("FORMULA:"):
        formula, cached = value[8:].split("|")
        return f'<c r="{ref}"{s}><f>{formula}</f><v>{cached}</v></c>'
    if isinstance(value, str) and value.startswith("ERROR:"):
        return f'<c r="{ref}" t="e"><v>{value[6:]}</v></c>'
    if isinstance(value, str):
        esc = value.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
        return f'<c r="{ref}" t="inlineStr"><is><t>{esc}</t></is></c>'
    return f'<c r="{ref}"{s}><v>{value!r}</v></c>'


def xlsx(rows):
    """A minimal xlsx: one sheet 'Usage'; rows of (value or (value, style)) per column A..G."""
    sheet = ['<?xml version="1.0" encoding="UTF-8"?>'
             '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
    for r, row in enumerate(rows, start=1):
        sheet.append(f'<row r="{r}">')
        for c, v in enumerate(row):
            style = None
            if isinstance(v, tuple):
                v, style = v
            sheet.append(cell_xml(f"{'ABCDEFG'[c]}{r}", v, style))
        sheet.append("</row>")
    sheet.append("</sheetData></worksheet>")
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    return zip_bytes([
        ("[Content_Types].xml",
         '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
         '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
         '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
         '</Types>'),
        ("_rels/.rels",
         '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        ("xl/workbook.xml",
         f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
         '<sheets><sheet name="Usage" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        ("xl/_rels/workbook.xml.rels",
         '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
         f'<Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/></Relationships>'),
        ("xl/styles.xml",
         f'<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="{main}">'
         '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>'),
        ("xl/worksheets/sheet1.xml", "".join(sheet)),
    ])


def spreadsheet_cases():
    head = HEADER.split(",")
    good = [1768435200, 1768521600, "gpt-4o", 1000, 500, 1, "proj_a"]
    write("xlsx_formula_text_and_cached_values.xlsx", xlsx([
        head,
        good,
        [1768435200, 1768521600, '=HYPERLINK("http://x","y")', 1000, 500, 1, "+cmd|' /C calc'!A0"],
        [1768435200, 1768521600, "gpt-4o", "FORMULA:1000+1000|2000", 500, 1, "@SUM(1)"],
    ]))
    # Excel serial dates: 1 = 1900-01-01, 2958465 = 9999-12-31 (both outside 2026Q1).
    write("xlsx_dates_1900_and_9999.xlsx", xlsx([
        head,
        good,
        [(1, 1), (2, 1), "gpt-4o", 10, 5, 1, "p"],
        [(2958465, 1), (2958465, 1), "gpt-4o", 10, 5, 1, "p"],
    ]))
    write("xlsx_error_and_text_cells_in_numbers.xlsx", xlsx([
        head,
        good,
        [1768435200, 1768521600, "gpt-4o", "ERROR:#N/A", 5, 1, "p"],
        [1768435200, 1768521600, "gpt-4o", "lots", 5, 1, "p"],
        [1768435200, 1768521600, "gpt-4o", 1e308, 5, 1, "p"],
    ]))
    full = xlsx([head, good])
    write("xlsx_truncated.xlsx", full[: len(full) // 2])
    write("zip_not_a_workbook.xlsx", zip_bytes([("readme.txt", "just text"), ("data/a.csv", csv(GOOD))]))
    # An .ods whose one row repeats a value across 16,384 columns, 6,000 times: 98 million
    # cells (under calamine's own limit of 100 million, about 5.5 GB as it reads .ods whole).
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Usage">'
        '<table:table-row table:number-rows-repeated="6000">'
        '<table:table-cell office:value-type="float" office:value="1" table:number-columns-repeated="16384">'
        "<text:p>1</text:p></table:table-cell></table:table-row>"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    write("ods_repeated_cells_98_million.ods", zip_bytes(
        [("content.xml", content), ("META-INF/manifest.xml", manifest)],
        stored_first=("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
    ))


def xlsb_record(typ, body=b""):
    """One BIFF12 record: type and size as 7-bit varints, then the body."""
    head = bytearray()
    head += bytes([typ]) if typ < 0x80 else bytes([(typ & 0x7F) | 0x80, typ >> 7])
    size = len(body)
    while True:
        b = size & 0x7F
        size >>= 7
        head.append(b | (0x80 if size else 0))
        if not size:
            break
    return bytes(head) + body


def wide(text):
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def xlsb(rows):
    """A minimal xlsb (MS-XLSB): rows of (row index, [(column, value)]), numbers or text."""
    workbook = (
        xlsb_record(0x009C, struct.pack("<II", 0, 1) + wide("rId1") + wide("Usage"))  # BrtBundleSh
        + xlsb_record(0x0090)  # BrtEndBundleShs
        + xlsb_record(0x009D, b"\0" * 16)  # BrtCalcProp: the end of the defined names
    )
    last_row = max(r for r, _ in rows)
    last_col = max(c for _, cells in rows for c, _ in cells)
    sheet = bytearray(xlsb_record(0x0081))  # BrtBeginSheet
    sheet += xlsb_record(0x0094, struct.pack("<IIII", 0, last_row, 0, last_col))  # BrtWsDim
    sheet += xlsb_record(0x0091)  # BrtBeginSheetData
    for r, cells in rows:
        sheet += xlsb_record(0x0000, struct.pack("<I", r) + b"\0" * 13)  # BrtRowHdr
        for c, v in cells:
            if isinstance(v, str):
                sheet += xlsb_record(0x0006, struct.pack("<II", c, 0) + wide(v))  # BrtCellSt
            else:
                sheet += xlsb_record(0x0005, struct.pack("<IId", c, 0, float(v)))  # BrtCellReal
    sheet += xlsb_record(0x0092) + xlsb_record(0x0082)  # BrtEndSheetData, BrtEndSheet
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.bin"/></Relationships>'
    )
    return zip_bytes([
        ("xl/workbook.bin", workbook),
        ("xl/_rels/workbook.bin.rels", rels),
        ("xl/worksheets/sheet1.bin", bytes(sheet)),
    ])


def xlsb_cases():
    head = list(enumerate(HEADER.split(",")))
    good = list(enumerate([1768435200, 1768521600, "gpt-4o", 1000, 500, 1, "proj_a"]))
    bad = list(enumerate([1768435200, 1768521600, "gpt-4o", "lots", 500, 1, "proj_a"]))
    write("valid.xlsb", xlsb([(0, head), (1, good), (2, bad)]))
    # One value in the last cell of the grid (XFD1048576): streamed, it costs one row.
    write("xlsb_cell_at_far_corner.xlsb", xlsb([(0, head), (1, good), (1_048_575, [(16_383, 7)])]))


def soffice_cases():
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        print("soffice not found: keeping the committed .xls, .ods and .doc files", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "usage.csv")
        with open(src, "w") as f:
            f.write(HEADER + ",note\n")
            f.write(GOOD + ",1234.5678\n")
            f.write(GOOD.replace("proj_a", "proj_b").replace("1000,500", "3000,700") + ",x\n")
            f.write("1768435200,1768521600,gpt-4o,lots,5,1,p,x\n")
        env = dict(os.environ, HOME=tmp)
        for fmt, path in [("xls", src), ("ods", src)]:
            subprocess.run([soffice, "--headless", "--convert-to", fmt, "--outdir", tmp, path],
                           check=True, capture_output=True, env=env)
        shutil.copy(os.path.join(tmp, "usage.xls"), os.path.join(OUT, "valid.xls"))
        shutil.copy(os.path.join(tmp, "usage.ods"), os.path.join(OUT, "valid.ods"))
        # Move the NUMBER record of 1234.5678 to row 65,536, column 16,384: calamine would
        # build a dense grid of 65,536 × 16,384 cells (about 34 GB) from this 6 KB file.
        data = bytearray(open(os.path.join(tmp, "usage.xls"), "rb").read())
        at = data.find(struct.pack("<d", 1234.5678))
        assert at > 10 and data[at - 10:at - 6] == b"\x03\x02\x0e\x00", "NUMBER record not found"
        data[at - 6:at - 2] = struct.pack("<HH", 65535, 16383)
        write("xls_cell_at_far_corner.xls", bytes(data))


def password_case():
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain.xlsx")
        with open(plain, "wb") as f:
            f.write(xlsx([HEADER.split(","), [1768435200, 1768521600, "gpt-4o", 1000, 500, 1, "p"]]))
        venv = os.path.join(tmp, "venv")
        try:
            subprocess.run([sys.executable, "-m", "venv", venv], check=True, capture_output=True)
            pip = os.path.join(venv, "bin", "pip")
            subprocess.run([pip, "install", "-q", "msoffcrypto-tool"], check=True, capture_output=True)
        except (subprocess.CalledProcessError, OSError) as e:
            print(f"msoffcrypto-tool not installable ({e}): keeping password_protected.xlsx",
                  file=sys.stderr)
            return
        tool = os.path.join(venv, "bin", "msoffcrypto-tool")
        out = os.path.join(OUT, "password_protected.xlsx")
        subprocess.run([tool, "-e", "-p", "secret", plain, out], check=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    text_cases()
    spreadsheet_cases()
    xlsb_cases()
    soffice_cases()
    password_case()
    print(f"wrote {len(os.listdir(OUT))} files in {OUT}")


if __name__ == "__main__":
    main()
