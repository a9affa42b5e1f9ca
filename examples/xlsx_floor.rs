//! The floor for XLSX input: calamine's streaming cell reader over every sheet, nothing else;
//! then llm-scope3's own reader (the sheet-XML scanner of `src/ingest/sheetxml.rs`) handing
//! every row to a callback that only counts, so the two can be compared.
//!
//!     cargo run --release --example xlsx_floor -- FILE.xlsx
use calamine::{open_workbook, DataRef, Reader, Xlsx};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: xlsx_floor FILE.xlsx")?;
    let t = std::time::Instant::now();
    let mut wb: Xlsx<_> = open_workbook(&path)?;
    let (mut cells, mut text, mut rows) = (0u64, 0u64, 0u64);
    for sheet in wb.sheet_names() {
        let mut reader = wb.worksheet_cells_reader(&sheet)?;
        let mut last = u32::MAX;
        while let Some(cell) = reader.next_cell()? {
            cells += 1;
            if cell.get_position().0 != last {
                last = cell.get_position().0;
                rows += 1;
            }
            match cell.get_value() {
                DataRef::String(s) => text += s.len() as u64,
                DataRef::SharedString(s) => text += s.len() as u64,
                _ => {}
            }
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "calamine: {rows} rows, {cells} cells, {text} text bytes in {s:.3} s = {:.0} rows/s",
        rows as f64 / s
    );

    let t = std::time::Instant::now();
    let (mut cells, mut text, mut rows) = (0u64, 0u64, 0u64);
    llm_scope3::ingest::read_rows(std::path::Path::new(&path), &path, &mut |e| {
        if let llm_scope3::ingest::RowEvent::Row(_, row) = e {
            rows += 1;
            cells += row.len() as u64;
            for i in 0..row.len() {
                if let llm_scope3::ingest::CellRef::Text(t) = row.cell(i) {
                    text += t.len() as u64;
                }
            }
        }
        Ok(llm_scope3::ingest::Flow::Continue)
    })?;
    let s = t.elapsed().as_secs_f64();
    println!(
        "scanner:  {rows} rows, {cells} cells, {text} text bytes in {s:.3} s = {:.0} rows/s",
        rows as f64 / s
    );
    Ok(())
}
