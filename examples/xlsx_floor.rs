//! The floor for XLSX input: calamine's streaming cell reader over every sheet, nothing else.
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
        "{rows} rows, {cells} cells, {text} text bytes in {s:.3} s = {:.0} rows/s",
        rows as f64 / s
    );
    Ok(())
}
