//! The cell formats of the workbook, defined once.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder};

/// The formats used everywhere, defined once.
pub(crate) struct Formats {
    pub(crate) title: Format,
    pub(crate) header: Format,
    pub(crate) label: Format,
    pub(crate) text: Format,
    /// Text at the top of its cell, not wrapped (it runs on over empty cells to its right).
    pub(crate) top: Format,
    pub(crate) wrap: Format,
    /// A count (requests, tokens): no decimals, thousands separators.
    pub(crate) int: Format,
    /// kWh, and litres of water: one decimal.
    pub(crate) kwh: Format,
    /// kgCO2e: three decimals.
    pub(crate) kg: Format,
    /// tCO2e: three decimals.
    pub(crate) t: Format,
    /// A data-quality score or a ratio: two decimals.
    pub(crate) dq: Format,
    /// A share: a percentage with one decimal.
    pub(crate) pct: Format,
    /// A quantity in a unit of its own (billed items not estimated): up to three decimals.
    pub(crate) qty: Format,
    pub(crate) total_label: Format,
    pub(crate) total_int: Format,
    pub(crate) total_kwh: Format,
    pub(crate) total_kg: Format,
    pub(crate) total_t: Format,
    /// A warning: dark red on light red, wrapped.
    pub(crate) warn: Format,
    /// A label beside wrapped text: bold, at the top of its cell.
    pub(crate) label_top: Format,
    /// A column label of a small table: bold, wrapped, at the top of its cell.
    pub(crate) label_wrap: Format,
    /// An amount of money: two decimals with thousands separators.
    pub(crate) money: Format,
    /// A month without data in the coverage matrix.
    pub(crate) gap: Format,
    /// A sign-off cell of the Cover: unlocked, the one thing a protected (final) workbook
    /// lets its reader fill in; a thin bottom border shows where to write.
    pub(crate) sign_off: Format,
    /// A year: a whole number without a thousands separator (`2025`).
    pub(crate) year: Format,
    /// The figure to disclose (the E1-6 Summary's AI / LLM line): bold on a light fill in a
    /// medium border, tCO2e to three decimals.
    pub(crate) disclose: Format,
    /// A unit beside a number (indented, so that it does not touch the number before it).
    pub(crate) unit: Format,
    /// An exchange rate or a deflator: six decimals.
    pub(crate) ratio: Format,
}

impl Formats {
    pub(crate) fn new() -> Formats {
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0x1F4E78))
            .set_font_color(Color::White)
            .set_text_wrap()
            .set_align(FormatAlign::Top)
            .set_border_bottom(FormatBorder::Thin);
        let total = Format::new().set_bold().set_border_top(FormatBorder::Thin);
        let top = Format::new().set_align(FormatAlign::Top);
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            header,
            // Top-aligned, so that a label stays beside the first line of a wrapped value.
            label: Format::new().set_bold().set_align(FormatAlign::Top),
            text: Format::new(),
            top: top.clone(),
            wrap: Format::new().set_text_wrap().set_align(FormatAlign::Top),
            // Numbers sit at the top of their cells, beside the first line of a wrapped text in
            // the same row.
            int: top.clone().set_num_format("#,##0"),
            kwh: top.clone().set_num_format("#,##0.0"),
            kg: top.clone().set_num_format("#,##0.000"),
            t: top.clone().set_num_format("#,##0.000"),
            dq: top.clone().set_num_format("0.00"),
            pct: top.clone().set_num_format("0.0%"),
            // Three decimals, none from 1,000 on (a quantity of tokens runs to billions).
            qty: top.clone().set_num_format("[>=1000]#,##0;#,##0.000"),
            total_label: total.clone(),
            total_int: total.clone().set_num_format("#,##0"),
            total_kwh: total.clone().set_num_format("#,##0.0"),
            total_kg: total.clone().set_num_format("#,##0.000"),
            total_t: total.set_num_format("#,##0.000"),
            warn: Format::new()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_font_color(Color::RGB(0x9C0006))
                .set_background_color(Color::RGB(0xFFC7CE)),
            label_top: Format::new().set_bold().set_align(FormatAlign::Top),
            label_wrap: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top),
            money: top.clone().set_num_format("#,##0.00"),
            gap: Format::new()
                .set_bold()
                .set_align(FormatAlign::Center)
                .set_font_color(Color::RGB(0x9C0006))
                .set_background_color(Color::RGB(0xFFC7CE)),
            sign_off: Format::new()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_border_bottom(FormatBorder::Thin)
                .set_unlocked(),
            year: top.clone().set_num_format("0"),
            unit: Format::new().set_indent(1),
            disclose: Format::new()
                .set_bold()
                .set_num_format("#,##0.000")
                .set_background_color(Color::RGB(0xFFF2CC))
                .set_border(FormatBorder::Medium)
                .set_border_color(Color::RGB(0xBF8F00)),
            ratio: top.set_num_format("0.000000"),
        }
    }
}
