//! The catalogue as a spreadsheet (.xlsx), the way departments exchange it: four sheets
//! (事项, 申请材料, 审查要点, 受理窗口) with Chinese headers and labels. Import checks every row
//! and reports each error by sheet, row and column; a file with any error imports nothing.

use std::{collections::HashMap, fmt, io::Cursor};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    CASE_KINDS, LEVELS, LIMIT_UNITS, LIST_KINDS, MATERIAL_FORMS, Material, MatterInput,
    REVIEW_KINDS, WINDOW_RIGHTS, WindowRight, code_of, label, queries, search::Cuts, validate,
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

fn yes_no(b: bool) -> &'static str {
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
    let ws = wb.add_worksheet().set_name(MATTERS).map_err(xerr)?;
    header(ws, MATTER_COLUMNS, &bold)?;
    for (i, m) in matters.iter().enumerate() {
        let cells = [
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
        ];
        row(ws, i as u32 + 1, &cells)?;
    }
    let ws = wb.add_worksheet().set_name(MATERIALS).map_err(xerr)?;
    header(ws, MATERIAL_COLUMNS, &bold)?;
    let mut r = 1;
    for m in matters {
        for mat in &m.materials {
            let cells = [
                m.code.clone(),
                mat.name.clone(),
                label(MATERIAL_FORMS, &mat.form).to_owned(),
                mat.copies.to_string(),
                yes_no(mat.required).to_owned(),
                yes_no(mat.tolerable).to_owned(),
                mat.sample.clone(),
                mat.blank_form.clone(),
                mat.note.clone(),
            ];
            row(ws, r, &cells)?;
            r += 1;
        }
    }
    let ws = wb.add_worksheet().set_name(POINTS).map_err(xerr)?;
    header(ws, POINT_COLUMNS, &bold)?;
    let mut r = 1;
    for m in matters {
        for (kind, list) in [
            ("形式审查", &m.review_form),
            ("内容审查", &m.review_content),
        ] {
            for p in list {
                row(ws, r, &[m.code.clone(), kind.to_owned(), p.clone()])?;
                r += 1;
            }
        }
    }
    let ws = wb.add_worksheet().set_name(WINDOWS).map_err(xerr)?;
    header(ws, WINDOW_COLUMNS, &bold)?;
    let mut r = 1;
    for m in matters {
        for w in &m.windows {
            let cells = [
                m.code.clone(),
                w.window.clone(),
                label(WINDOW_RIGHTS, &w.rights).to_owned(),
            ];
            row(ws, r, &cells)?;
            r += 1;
        }
    }
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

fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.trim().to_owned(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => yes_no(*b).to_owned(),
        Data::DateTime(d) => d.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// A sheet's rows as maps from header to text, with their row numbers.
struct Sheet {
    rows: Vec<(usize, HashMap<String, String>)>,
}

impl Sheet {
    fn read(
        wb: &mut Xlsx<Cursor<&[u8]>>,
        name: &'static str,
        columns: &[&str],
        required: bool,
        errors: &mut Vec<CellError>,
    ) -> Sheet {
        let mut sheet = Sheet { rows: Vec::new() };
        let range = match wb.worksheet_range(name) {
            Ok(r) => r,
            Err(_) => {
                if required {
                    errors.push(CellError::new(
                        name,
                        1,
                        "",
                        format!("找不到名为“{name}”的工作表"),
                    ));
                }
                return sheet;
            }
        };
        let mut rows = range.rows();
        let heads: Vec<String> = rows
            .next()
            .map(|r| r.iter().map(cell_text).collect())
            .unwrap_or_default();
        for c in columns {
            if !heads.iter().any(|h| h == c) {
                errors.push(CellError::new(name, 1, c, "缺少此列"));
            }
        }
        // Row numbers as the spreadsheet shows them: the range may start below row 1.
        let first = range.start().map(|(r, _)| r as usize + 1).unwrap_or(1);
        for (i, r) in rows.enumerate() {
            let cells: HashMap<String, String> = heads
                .iter()
                .zip(r.iter())
                .map(|(h, d)| (h.clone(), cell_text(d)))
                .collect();
            if cells.values().all(String::is_empty) {
                continue;
            }
            sheet.rows.push((first + i + 1, cells));
        }
        sheet
    }
}

/// Reads one row, collecting errors with their column.
struct RowReader<'a> {
    sheet: &'static str,
    row: usize,
    cells: &'a HashMap<String, String>,
    errors: &'a mut Vec<CellError>,
}

impl RowReader<'_> {
    fn text(&self, column: &str) -> String {
        self.cells.get(column).cloned().unwrap_or_default()
    }

    fn fail(&mut self, column: &str, message: impl Into<String>) {
        self.errors
            .push(CellError::new(self.sheet, self.row, column, message));
    }

    fn code_from(&mut self, column: &str, list: &[super::Code], allow_empty: bool) -> String {
        let t = self.text(column);
        if t.is_empty() && allow_empty {
            return String::new();
        }
        match code_of(list, &t) {
            Some(c) => c.to_owned(),
            None => {
                let options: Vec<&str> = list.iter().map(|(_, l)| *l).collect();
                let shown = if t.is_empty() { "空" } else { t.as_str() };
                self.fail(
                    column,
                    format!("“{shown}”无效，应为：{}", options.join("、")),
                );
                String::new()
            }
        }
    }

    fn flag(&mut self, column: &str) -> bool {
        match self.text(column).as_str() {
            "" | "否" | "0" | "N" | "n" | "FALSE" | "false" => false,
            "是" | "1" | "Y" | "y" | "TRUE" | "true" => true,
            other => {
                self.fail(column, format!("“{other}”无效，应填“是”或“否”"));
                false
            }
        }
    }

    fn number(&mut self, column: &str) -> Option<i64> {
        let t = self.text(column);
        if t.is_empty() {
            return None;
        }
        match t.parse::<i64>() {
            Ok(n) if n >= 0 => Some(n),
            _ => {
                self.fail(column, format!("“{t}”不是非负整数"));
                None
            }
        }
    }
}

/// Parses a workbook into matters; every problem is reported, none is skipped.
pub fn read(bytes: &[u8], types: &[(String, String)]) -> Result<Vec<MatterInput>, ImportError> {
    Ok(read_rows(bytes, types)?
        .into_iter()
        .map(|(_, m)| m)
        .collect())
}

/// Where a matter and its parts came from: the rows of each sheet.
#[derive(Clone, Debug, Default)]
pub struct Origin {
    /// Its row on the 事项 sheet.
    pub row: usize,
    materials: Vec<usize>,
    review_form: Vec<usize>,
    review_content: Vec<usize>,
    /// In the order of the matter's windows, which are kept sorted by code as a save does.
    windows: Vec<usize>,
}

/// The fields of a matter, in the order of [`MATTER_COLUMNS`].
const MATTER_FIELDS: [&str; 31] = [
    "code",
    "parent",
    "center",
    "node",
    "name",
    "sort_order",
    "type_code",
    "department",
    "level",
    "kind",
    "legal_basis",
    "conditions",
    "process",
    "legal_limit",
    "promised_limit",
    "limit_unit",
    "special_procedures",
    "fees",
    "fee_basis",
    "notice_commitment",
    "consult_phone",
    "complaint_phone",
    "duty_phone",
    "place",
    "hours",
    "delivery",
    "notes",
    "list_kind",
    "list_category",
    "outside",
    "outside_reason",
];

impl Origin {
    /// The sheet, row and column a field of the matter (`name`, `materials[1].form`,
    /// `windows[0]`) was read from; the matter's row when the field names none.
    fn locate(&self, field: Option<&str>) -> (&'static str, usize, &'static str) {
        let Some(field) = field else {
            return (MATTERS, self.row, "");
        };
        let (base, index, part) = match field.split_once('[') {
            None => (field, None, ""),
            Some((base, rest)) => {
                let (n, part) = rest.split_once(']').unwrap_or((rest, ""));
                (base, n.parse::<usize>().ok(), part.trim_start_matches('.'))
            }
        };
        let at = |rows: &[usize]| index.and_then(|i| rows.get(i).copied());
        let sub = |sheet, rows: &[usize], column| match at(rows) {
            Some(row) => (sheet, row, column),
            None => (MATTERS, self.row, ""),
        };
        match base {
            "materials" => {
                let column = match part {
                    "name" => "材料名称",
                    "form" => "原件/复印件",
                    "copies" => "份数",
                    "sample" => "示范文本",
                    "blank_form" => "空白表格",
                    "note" => "说明",
                    _ => "",
                };
                sub(MATERIALS, &self.materials, column)
            }
            "review_form" => sub(POINTS, &self.review_form, "要点"),
            "review_content" => sub(POINTS, &self.review_content, "要点"),
            "windows" => match (at(&self.windows), self.windows.first()) {
                (Some(row), _) => (
                    WINDOWS,
                    row,
                    if part == "rights" {
                        "权限"
                    } else {
                        "窗口编码"
                    },
                ),
                (None, Some(row)) => (WINDOWS, *row, "窗口编码"),
                (None, None) => (MATTERS, self.row, ""),
            },
            _ => match MATTER_FIELDS.iter().position(|f| *f == base) {
                Some(i) => (MATTERS, self.row, MATTER_COLUMNS[i]),
                None => (MATTERS, self.row, ""),
            },
        }
    }

    /// A refusal of the matter read from here, as a spreadsheet error naming its cell.
    fn cell_error(&self, e: &AppError) -> CellError {
        let (sheet, row, column) = self.locate(e.field());
        CellError::new(sheet, row, column, e.public_message())
    }
}

/// A refusal from saving the matter read at `origin`, as an error of the file; errors that are
/// not the file's (the database) are given back.
pub fn cell_error(origin: &Origin, e: AppError) -> Result<CellError, AppError> {
    match e {
        AppError::Invalid(_)
        | AppError::InvalidField { .. }
        | AppError::Conflict(_)
        | AppError::NotFound(_) => Ok(origin.cell_error(&e)),
        e => Err(e),
    }
}

/// A workbook read, checked and cut into search words, ready to be saved.
#[derive(Debug)]
pub struct Prepared {
    /// Parents before their children, each with where it came from.
    pub matters: Vec<(Origin, MatterInput)>,
    /// The search words of every name and department of the file.
    pub cuts: Cuts,
}

/// Reads a workbook and does all the work of an import that needs no database: parsing,
/// the checks of every row, ordering parents first, cutting words for search.
pub fn prepare(bytes: &[u8], types: &[(String, String)]) -> Result<Prepared, ImportError> {
    let rows = read_rows(bytes, types)?;
    let mut origins: HashMap<String, Origin> = rows
        .iter()
        .map(|(o, m)| (m.code.clone(), o.clone()))
        .collect();
    let sorted = queries::sort_parents_first(rows.into_iter().map(|(_, m)| m).collect());
    let cuts = Cuts::of(
        sorted
            .iter()
            .flat_map(|m| [m.name.as_str(), m.department.as_str()]),
    );
    let matters = sorted
        .into_iter()
        .map(|m| (origins.remove(&m.code).unwrap_or_default(), m))
        .collect();
    Ok(Prepared { matters, cuts })
}

/// [`read`], each matter with the rows it came from.
pub fn read_rows(
    bytes: &[u8],
    types: &[(String, String)],
) -> Result<Vec<(Origin, MatterInput)>, ImportError> {
    let mut wb: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes)).map_err(|_| {
        ImportError::App(AppError::Invalid(
            "无法读取该文件：请上传 Excel 工作簿（.xlsx）".into(),
        ))
    })?;
    let mut errors = Vec::new();
    let matters = Sheet::read(&mut wb, MATTERS, MATTER_COLUMNS, true, &mut errors);
    let materials = Sheet::read(&mut wb, MATERIALS, MATERIAL_COLUMNS, false, &mut errors);
    let points = Sheet::read(&mut wb, POINTS, POINT_COLUMNS, false, &mut errors);
    let windows = Sheet::read(&mut wb, WINDOWS, WINDOW_COLUMNS, false, &mut errors);
    if !errors.is_empty() {
        return Err(ImportError::Rows(errors));
    }
    let type_code: HashMap<&str, &str> = types
        .iter()
        .flat_map(|(c, n)| [(n.as_str(), c.as_str()), (c.as_str(), c.as_str())])
        .collect();
    let mut out: Vec<(Origin, MatterInput)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (row, cells) in &matters.rows {
        let mut r = RowReader {
            sheet: MATTERS,
            row: *row,
            cells,
            errors: &mut errors,
        };
        let code = r.text("事项编号");
        if let Err(e) = validate::parse_code(&code) {
            r.fail("事项编号", e.public_message());
        } else if index.contains_key(&code) {
            let first = out[index[&code]].0.row;
            r.fail("事项编号", format!("与第 {first} 行重复"));
        }
        let node = match r.text("节点").as_str() {
            "目录" | "category" => "category",
            "事项" | "matter" | "" => "matter",
            other => {
                r.fail("节点", format!("“{other}”无效，应为：目录、事项"));
                "matter"
            }
        };
        let tname = r.text("事项类型");
        let type_code = if node == "category" && tname.is_empty() {
            String::new()
        } else {
            match type_code.get(tname.as_str()) {
                Some(c) => (*c).to_owned(),
                None => {
                    let names: Vec<&str> = types.iter().map(|(_, n)| n.as_str()).collect();
                    let shown = if tname.is_empty() {
                        "空"
                    } else {
                        tname.as_str()
                    };
                    r.fail(
                        "事项类型",
                        format!("“{shown}”无效，应为：{}", names.join("、")),
                    );
                    String::new()
                }
            }
        };
        let sort = r.text("排序");
        let sort_order = if sort.is_empty() {
            0
        } else {
            sort.parse().unwrap_or_else(|_| {
                r.fail("排序", format!("“{sort}”不是整数"));
                0
            })
        };
        let m = MatterInput {
            code: code.clone(),
            parent: Some(r.text("上级编号")).filter(|s| !s.is_empty()),
            center: r.text("所属中心"),
            node: node.into(),
            name: r.text("名称"),
            sort_order,
            type_code,
            department: r.text("实施部门"),
            level: r.code_from("层级", LEVELS, true),
            kind: r.code_from("办件类型", CASE_KINDS, node == "category"),
            legal_basis: r.text("设定依据"),
            conditions: r.text("受理条件"),
            process: r.text("办理流程"),
            legal_limit: r.number("法定时限"),
            promised_limit: r.number("承诺时限"),
            limit_unit: {
                let u = r.code_from("时限单位", LIMIT_UNITS, true);
                if u.is_empty() {
                    "working_days".into()
                } else {
                    u
                }
            },
            special_procedures: r.text("特别程序"),
            fees: r.text("收费标准"),
            fee_basis: r.text("收费依据"),
            notice_commitment: r.flag("告知承诺"),
            consult_phone: r.text("咨询电话"),
            complaint_phone: r.text("投诉电话"),
            duty_phone: r.text("总值班电话"),
            place: r.text("办理地点"),
            hours: r.text("办理时间"),
            delivery: r.text("送达方式"),
            notes: r.text("备注"),
            list_kind: r.code_from("目录类别", LIST_KINDS, true),
            list_category: r.text("规定目录大类"),
            outside: r.flag("负面清单"),
            outside_reason: r.text("负面清单原因"),
            ..Default::default()
        };
        let next = out.len();
        index.entry(code).or_insert(next);
        out.push((
            Origin {
                row: *row,
                ..Default::default()
            },
            m,
        ));
    }
    let owner = |sheet: &'static str,
                 row: usize,
                 code: &str,
                 errors: &mut Vec<CellError>|
     -> Option<usize> {
        let i = index.get(code).copied();
        if i.is_none() {
            errors.push(CellError::new(
                sheet,
                row,
                "事项编号",
                format!("“{code}”不在“事项”表中"),
            ));
        }
        i
    };
    for (row, cells) in &materials.rows {
        let mut r = RowReader {
            sheet: MATERIALS,
            row: *row,
            cells,
            errors: &mut errors,
        };
        let mat = Material {
            name: r.text("材料名称"),
            form: r.code_from("原件/复印件", MATERIAL_FORMS, false),
            copies: r.number("份数").unwrap_or(1),
            required: r.flag("必要"),
            tolerable: r.flag("容缺"),
            sample: r.text("示范文本"),
            blank_form: r.text("空白表格"),
            note: r.text("说明"),
        };
        if mat.name.is_empty() {
            r.fail("材料名称", "不能为空");
        }
        let code = r.text("事项编号");
        if let Some(i) = owner(MATERIALS, *row, &code, &mut errors) {
            out[i].1.materials.push(mat);
            out[i].0.materials.push(*row);
        }
    }
    for (row, cells) in &points.rows {
        let mut r = RowReader {
            sheet: POINTS,
            row: *row,
            cells,
            errors: &mut errors,
        };
        let kind = r.code_from("类别", REVIEW_KINDS, false);
        let text = r.text("要点");
        if text.is_empty() {
            r.fail("要点", "不能为空");
        }
        let code = r.text("事项编号");
        if let Some(i) = owner(POINTS, *row, &code, &mut errors) {
            match kind.as_str() {
                "form" => {
                    out[i].1.review_form.push(text);
                    out[i].0.review_form.push(*row);
                }
                "content" => {
                    out[i].1.review_content.push(text);
                    out[i].0.review_content.push(*row);
                }
                _ => {}
            }
        }
    }
    for (row, cells) in &windows.rows {
        let mut r = RowReader {
            sheet: WINDOWS,
            row: *row,
            cells,
            errors: &mut errors,
        };
        let w = WindowRight {
            window: r.text("窗口编码"),
            rights: r.code_from("权限", WINDOW_RIGHTS, false),
            window_name: String::new(),
        };
        if w.window.is_empty() {
            r.fail("窗口编码", "不能为空");
        }
        let code = r.text("事项编号");
        if let Some(i) = owner(WINDOWS, *row, &code, &mut errors) {
            out[i].1.windows.push(w);
            out[i].0.windows.push(*row);
        }
    }
    // Windows in the order a save keeps them (by code), so a refusal's index finds its row.
    for (origin, m) in &mut out {
        let mut pairs: Vec<(WindowRight, usize)> = std::mem::take(&mut m.windows)
            .into_iter()
            .zip(std::mem::take(&mut origin.windows))
            .collect();
        pairs.sort_by(|a, b| a.0.window.cmp(&b.0.window));
        (m.windows, origin.windows) = pairs.into_iter().unzip();
    }
    // The rules every save checks (names, lengths, limits, lists), per row.
    for (origin, m) in &out {
        if let Err(e) = validate::normalise(m) {
            errors.push(origin.cell_error(&e));
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| (sheet_order(&e.sheet), e.row));
        return Err(ImportError::Rows(errors));
    }
    Ok(out)
}

fn sheet_order(s: &str) -> usize {
    [MATTERS, MATERIALS, POINTS, WINDOWS]
        .iter()
        .position(|x| *x == s)
        .unwrap_or(9)
}
