//! The catalogue as a spreadsheet (.xlsx), the way departments exchange it: four sheets
//! (事项, 申请材料, 审查要点, 受理窗口) with Chinese headers and labels. Import checks every row
//! and reports each error by sheet, row and column; a file with any error imports nothing.

use std::{collections::HashMap, fmt};

use rust_xlsxwriter::{Format, Workbook, Worksheet};
use serde::Serialize;
use utoipa::ToSchema;

mod read;

pub use read::{Origin, Prepared, cell_error, prepare, read, read_rows};

use super::{
    CASE_KINDS, LEVELS, LIMIT_UNITS, LIST_KINDS, MATERIAL_FORMS, MatterInput, WINDOW_RIGHTS, label,
};
use crate::error::{AppError, AppResult};

/// The sheets of a workbook, in order.
pub const MATTERS: &str = "事项";
pub const MATERIALS: &str = "申请材料";
pub const POINTS: &str = "审查要点";
pub const WINDOWS: &str = "受理窗口";

/// The headers of the 事项 sheet, in order.
pub const MATTER_COLUMNS: &[&str] = &[
    "事项编号",
    "上级编号",
    "所属中心",
    "节点",
    "名称",
    "排序",
    "事项类型",
    "实施部门",
    "层级",
    "办件类型",
    "设定依据",
    "受理条件",
    "办理流程",
    "法定时限",
    "承诺时限",
    "时限单位",
    "特别程序",
    "收费标准",
    "收费依据",
    "告知承诺",
    "咨询电话",
    "投诉电话",
    "总值班电话",
    "办理地点",
    "办理时间",
    "送达方式",
    "备注",
    "目录类别",
    "规定目录大类",
    "负面清单",
    "负面清单原因",
];
/// The headers of the 申请材料 sheet.
pub const MATERIAL_COLUMNS: &[&str] = &[
    "事项编号",
    "材料名称",
    "原件/复印件",
    "份数",
    "必要",
    "容缺",
    "示范文本",
    "空白表格",
    "说明",
];
/// The headers of the 审查要点 sheet.
pub const POINT_COLUMNS: &[&str] = &["事项编号", "类别", "要点"];
/// The headers of the 受理窗口 sheet.
pub const WINDOW_COLUMNS: &[&str] = &["事项编号", "窗口编码", "权限"];

pub(super) fn yes_no(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

fn xerr(e: rust_xlsxwriter::XlsxError) -> AppError {
    AppError::internal(format!("xlsx: {e}"))
}

fn header(ws: &mut Worksheet, columns: &[&str], bold: &Format) -> AppResult<()> {
    for (i, c) in columns.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *c, bold)
            .map_err(xerr)?;
        ws.set_column_width(i as u16, 14).map_err(xerr)?;
    }
    ws.set_freeze_panes(1, 0).map_err(xerr)?;
    Ok(())
}

fn row(ws: &mut Worksheet, r: u32, cells: &[String]) -> AppResult<()> {
    for (i, c) in cells.iter().enumerate() {
        if !c.is_empty() {
            ws.write_string(r, i as u16, c).map_err(xerr)?;
        }
    }
    Ok(())
}

/// Adds the sheet `name`: its header, then one row per item of `rows` from row 2.
fn sheet<R: AsRef<[String]>>(
    wb: &mut Workbook,
    name: &str,
    columns: &[&str],
    bold: &Format,
    rows: impl IntoIterator<Item = R>,
) -> AppResult<()> {
    let ws = wb.add_worksheet().set_name(name).map_err(xerr)?;
    header(ws, columns, bold)?;
    for (i, cells) in rows.into_iter().enumerate() {
        row(ws, i as u32 + 1, cells.as_ref())?;
    }
    Ok(())
}

fn opt(n: Option<i64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// Writes matters (parents first) as a workbook.
pub fn write(matters: &[MatterInput], types: &[(String, String)]) -> AppResult<Vec<u8>> {
    let type_name: HashMap<&str, &str> = types
        .iter()
        .map(|(c, n)| (c.as_str(), n.as_str()))
        .collect();
    let bold = Format::new().set_bold();
    let mut wb = Workbook::new();
    let matter_rows = matters.iter().map(|m| {
        [
            m.code.clone(),
            m.parent.clone().unwrap_or_default(),
            m.center.clone(),
            if m.node == "category" {
                "目录"
            } else {
                "事项"
            }
            .to_owned(),
            m.name.clone(),
            m.sort_order.to_string(),
            type_name
                .get(m.type_code.as_str())
                .map(|s| s.to_string())
                .unwrap_or_default(),
            m.department.clone(),
            label(LEVELS, &m.level).to_owned(),
            label(CASE_KINDS, &m.kind).to_owned(),
            m.legal_basis.clone(),
            m.conditions.clone(),
            m.process.clone(),
            opt(m.legal_limit),
            opt(m.promised_limit),
            label(LIMIT_UNITS, &m.limit_unit).to_owned(),
            m.special_procedures.clone(),
            m.fees.clone(),
            m.fee_basis.clone(),
            yes_no(m.notice_commitment).to_owned(),
            m.consult_phone.clone(),
            m.complaint_phone.clone(),
            m.duty_phone.clone(),
            m.place.clone(),
            m.hours.clone(),
            m.delivery.clone(),
            m.notes.clone(),
            label(LIST_KINDS, &m.list_kind).to_owned(),
            m.list_category.clone(),
            yes_no(m.outside).to_owned(),
            m.outside_reason.clone(),
        ]
    });
    sheet(&mut wb, MATTERS, MATTER_COLUMNS, &bold, matter_rows)?;
    let material_rows = matters.iter().flat_map(|m| {
        m.materials.iter().map(|mat| {
            [
                m.code.clone(),
                mat.name.clone(),
                label(MATERIAL_FORMS, &mat.form).to_owned(),
                mat.copies.to_string(),
                yes_no(mat.required).to_owned(),
                yes_no(mat.tolerable).to_owned(),
                mat.sample.clone(),
                mat.blank_form.clone(),
                mat.note.clone(),
            ]
        })
    });
    sheet(&mut wb, MATERIALS, MATERIAL_COLUMNS, &bold, material_rows)?;
    let point_rows = matters.iter().flat_map(|m| {
        [
            ("形式审查", &m.review_form),
            ("内容审查", &m.review_content),
        ]
        .into_iter()
        .flat_map(move |(kind, list)| {
            list.iter()
                .map(move |p| [m.code.clone(), kind.to_owned(), p.clone()])
        })
    });
    sheet(&mut wb, POINTS, POINT_COLUMNS, &bold, point_rows)?;
    let window_rows = matters.iter().flat_map(|m| {
        m.windows.iter().map(|w| {
            [
                m.code.clone(),
                w.window.clone(),
                label(WINDOW_RIGHTS, &w.rights).to_owned(),
            ]
        })
    });
    sheet(&mut wb, WINDOWS, WINDOW_COLUMNS, &bold, window_rows)?;
    wb.save_to_buffer().map_err(xerr)
}

/// One problem in a spreadsheet.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CellError {
    pub sheet: String,
    /// Row number as the spreadsheet shows it (the header is row 1).
    pub row: usize,
    /// Column header, or "" when the problem is the whole row.
    pub column: String,
    pub message: String,
    /// The cell as a spreadsheet names it, `事项!G3` (`事项!3` for a whole row).
    pub field: String,
}

impl CellError {
    pub fn new(sheet: &str, row: usize, column: &str, message: impl Into<String>) -> CellError {
        CellError {
            sheet: sheet.into(),
            row,
            column: column.into(),
            message: message.into(),
            field: cell_name(sheet, row, column),
        }
    }

    /// The same problem as an [`AppError`] naming its cell.
    pub fn into_app_error(self) -> AppError {
        AppError::invalid_field(self.field, self.message)
    }
}

/// `事项!G3`: the sheet, the column's letters (by its place among the sheet's headers) and
/// the row.
fn cell_name(sheet: &str, row: usize, column: &str) -> String {
    let columns = match sheet {
        MATTERS => MATTER_COLUMNS,
        MATERIALS => MATERIAL_COLUMNS,
        POINTS => POINT_COLUMNS,
        WINDOWS => WINDOW_COLUMNS,
        _ => &[],
    };
    let letters = match columns.iter().position(|c| *c == column) {
        Some(i) => column_letters(i),
        None => String::new(),
    };
    format!("{sheet}!{letters}{row}")
}

/// A, B, … Z, AA, AB …
fn column_letters(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl fmt::Display for CellError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.column.is_empty() {
            write!(f, "“{}”表第 {} 行：{}", self.sheet, self.row, self.message)
        } else {
            write!(
                f,
                "“{}”表第 {} 行“{}”列：{}",
                self.sheet, self.row, self.column, self.message
            )
        }
    }
}

/// Why an import did nothing.
#[derive(Debug)]
pub enum ImportError {
    /// Rows with errors, all of them.
    Rows(Vec<CellError>),
    /// The file itself, or the server.
    App(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::App(e)
    }
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::App(e.into())
    }
}

/// What an import did.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

#[cfg(test)]
mod tests {
    use super::column_letters;

    #[test]
    fn columns_are_lettered_as_spreadsheets_do() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(30), "AE");
    }
}
