//! The catalogue as a spreadsheet (.xlsx), the way departments exchange it: four sheets
//! (事项, 申请材料, 审查要点, 受理窗口) with Chinese headers and labels. Import checks every row
//! and reports each error by sheet, row and column; a file with any error imports nothing.

use std::{collections::HashMap, fmt, io::Cursor};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    CASE_KINDS, LEVELS, LIMIT_UNITS, LIST_KINDS, MATERIAL_FORMS, Material, REVIEW_KINDS,
    WINDOW_RIGHTS, WindowRight, code_of, label,
    store::{self, MatterInput, Saved},
};
use crate::{
    audit::Actor,
    db::Tx,
    error::{AppError, AppResult},
};

const MATTERS: &str = "事项";
const MATERIALS: &str = "申请材料";
const POINTS: &str = "审查要点";
const WINDOWS: &str = "受理窗口";

const MATTER_COLUMNS: &[&str] = &[
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
const MATERIAL_COLUMNS: &[&str] = &[
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
const POINT_COLUMNS: &[&str] = &["事项编号", "类别", "要点"];
const WINDOW_COLUMNS: &[&str] = &["事项编号", "窗口编码", "权限"];

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
                    errors.push(CellError {
                        sheet: name.into(),
                        row: 1,
                        column: String::new(),
                        message: format!("找不到名为“{name}”的工作表"),
                    });
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
                errors.push(CellError {
                    sheet: name.into(),
                    row: 1,
                    column: (*c).into(),
                    message: "缺少此列".into(),
                });
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
        self.errors.push(CellError {
            sheet: self.sheet.into(),
            row: self.row,
            column: column.into(),
            message: message.into(),
        });
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
    let mut out: Vec<(usize, MatterInput)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (row, cells) in &matters.rows {
        let mut r = RowReader {
            sheet: MATTERS,
            row: *row,
            cells,
            errors: &mut errors,
        };
        let code = r.text("事项编号");
        if let Err(e) = store::parse_code(&code) {
            r.fail("事项编号", e.public_message());
        } else if index.contains_key(&code) {
            let first = out[index[&code]].0;
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
        out.push((*row, m));
    }
    let owner = |sheet: &'static str,
                 row: usize,
                 code: &str,
                 errors: &mut Vec<CellError>|
     -> Option<usize> {
        let i = index.get(code).copied();
        if i.is_none() {
            errors.push(CellError {
                sheet: sheet.into(),
                row,
                column: "事项编号".into(),
                message: format!("“{code}”不在“事项”表中"),
            });
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
                "form" => out[i].1.review_form.push(text),
                "content" => out[i].1.review_content.push(text),
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
        }
    }
    // The rules every save checks (names, lengths, limits, lists), per row.
    for (row, m) in &out {
        if let Err(e) = store::normalise(m) {
            errors.push(CellError {
                sheet: MATTERS.into(),
                row: *row,
                column: String::new(),
                message: e.public_message(),
            });
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| (sheet_order(&e.sheet), e.row));
        return Err(ImportError::Rows(errors));
    }
    Ok(out.into_iter().map(|(_, m)| m).collect())
}

fn sheet_order(s: &str) -> usize {
    [MATTERS, MATERIALS, POINTS, WINDOWS]
        .iter()
        .position(|x| *x == s)
        .unwrap_or(9)
}

/// Imports a workbook in one transaction: all rows or none. Matters are matched by code;
/// parents are saved before their children.
pub async fn import(
    tx: &mut Tx,
    actor: &Actor,
    bytes: &[u8],
    now: i64,
    may_manage: &(dyn Fn(i64) -> AppResult<()> + Sync),
) -> Result<ImportReport, ImportError> {
    let types: Vec<(String, String)> =
        sqlx::query_as("select code, name from matter_types order by sort_order")
            .fetch_all(&mut **tx)
            .await?;
    let matters = read(bytes, &types)?;
    let mut centers: Vec<&str> = matters.iter().map(|m| m.center.as_str()).collect();
    centers.sort_unstable();
    centers.dedup();
    for c in centers {
        let id: Option<i64> = sqlx::query_scalar("select id from centers where code = $1")
            .bind(c)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(id) = id {
            may_manage(id)?;
        }
    }
    let rows: HashMap<String, usize> = matters
        .iter()
        .enumerate()
        .map(|(i, m)| (m.code.clone(), i + 2))
        .collect();
    let mut report = ImportReport::default();
    let mut errors = Vec::new();
    for m in store::sort_parents_first(matters) {
        match store::save(tx, actor, &m, "import", now).await {
            Ok(Saved::Created) => report.created += 1,
            Ok(Saved::Updated) => report.updated += 1,
            Ok(Saved::Unchanged) => report.unchanged += 1,
            Err(AppError::Invalid(msg) | AppError::Conflict(msg) | AppError::NotFound(msg)) => {
                errors.push(CellError {
                    sheet: MATTERS.into(),
                    row: rows[&m.code],
                    column: String::new(),
                    message: msg,
                });
                if errors.len() >= 200 {
                    break;
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(ImportError::Rows(errors));
    }
    Ok(report)
}
