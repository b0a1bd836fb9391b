//! Reading a workbook for an import: every sheet, every row, every error with its cell; the
//! whole file is read, checked and cut into search words before any database work.

use std::{collections::HashMap, io::Cursor};

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};

use super::{
    CellError, ImportError, MATERIAL_COLUMNS, MATERIALS, MATTER_COLUMNS, MATTERS, POINT_COLUMNS,
    POINTS, WINDOW_COLUMNS, WINDOWS, yes_no,
};
use crate::{
    catalog::{
        CASE_KINDS, Code, LEVELS, LIMIT_UNITS, LIST_KINDS, MATERIAL_FORMS, Material, MatterInput,
        REVIEW_KINDS, WINDOW_RIGHTS, WindowRight, code_of, queries, search::Cuts, validate,
    },
    error::AppError,
};

/// A control character other than tab, line feed and carriage return.
fn is_control(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
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
            // A control character (NUL …) is refused in the cell it stands in, as on every
            // other input: PostgreSQL cannot store it, and SQLite would.
            let row = first + i + 1;
            let mut bad: Vec<&String> = cells
                .iter()
                .filter(|(_, v)| v.chars().any(is_control))
                .map(|(h, _)| h)
                .collect();
            if !bad.is_empty() {
                bad.sort();
                for h in bad {
                    errors.push(CellError::new(
                        name,
                        row,
                        h,
                        "含有不可见的控制字符（如 NUL），请删除后重新导入",
                    ));
                }
                continue;
            }
            sheet.rows.push((row, cells));
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

impl<'a> RowReader<'a> {
    fn new(
        sheet: &'static str,
        (row, cells): &'a (usize, HashMap<String, String>),
        errors: &'a mut Vec<CellError>,
    ) -> Self {
        RowReader {
            sheet,
            row: *row,
            cells,
            errors,
        }
    }

    /// The place in `index` of the matter this row belongs to (its 事项编号), or an error
    /// when the 事项 sheet has no such matter.
    fn owner(&mut self, index: &HashMap<String, usize>) -> Option<usize> {
        let code = self.text("事项编号");
        let i = index.get(&code).copied();
        if i.is_none() {
            self.fail("事项编号", format!("“{code}”不在“事项”表中"));
        }
        i
    }

    fn text(&self, column: &str) -> String {
        self.cells.get(column).cloned().unwrap_or_default()
    }

    fn fail(&mut self, column: &str, message: impl Into<String>) {
        self.errors
            .push(CellError::new(self.sheet, self.row, column, message));
    }

    fn code_from(&mut self, column: &str, list: &[Code], allow_empty: bool) -> String {
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
    for entry in &matters.rows {
        let mut r = RowReader::new(MATTERS, entry, &mut errors);
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
                row: r.row,
                ..Default::default()
            },
            m,
        ));
    }
    for entry in &materials.rows {
        let mut r = RowReader::new(MATERIALS, entry, &mut errors);
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
        if let Some(i) = r.owner(&index) {
            out[i].1.materials.push(mat);
            out[i].0.materials.push(r.row);
        }
    }
    for entry in &points.rows {
        let mut r = RowReader::new(POINTS, entry, &mut errors);
        let kind = r.code_from("类别", REVIEW_KINDS, false);
        let text = r.text("要点");
        if text.is_empty() {
            r.fail("要点", "不能为空");
        }
        if let Some(i) = r.owner(&index) {
            match kind.as_str() {
                "form" => {
                    out[i].1.review_form.push(text);
                    out[i].0.review_form.push(r.row);
                }
                "content" => {
                    out[i].1.review_content.push(text);
                    out[i].0.review_content.push(r.row);
                }
                _ => {}
            }
        }
    }
    for entry in &windows.rows {
        let mut r = RowReader::new(WINDOWS, entry, &mut errors);
        let w = WindowRight {
            window: r.text("窗口编码"),
            rights: r.code_from("权限", WINDOW_RIGHTS, false),
            window_name: String::new(),
        };
        if w.window.is_empty() {
            r.fail("窗口编码", "不能为空");
        }
        if let Some(i) = r.owner(&index) {
            out[i].1.windows.push(w);
            out[i].0.windows.push(r.row);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_the_cell_it_was_read_from() {
        let origin = Origin {
            row: 7,
            materials: vec![3, 4],
            windows: vec![9],
            ..Default::default()
        };
        let e = AppError::invalid_field("kind", "办件类型“马上办”无效");
        let cell = origin.cell_error(&e);
        assert_eq!((cell.sheet.as_str(), cell.row), (MATTERS, 7));
        assert_eq!(cell.column, "办件类型");
        assert_eq!(cell.field, "事项!J7");
        let cell = origin.cell_error(&AppError::invalid_field("materials[1].form", "x"));
        assert_eq!(cell.field, "申请材料!C4");
        let cell = origin.cell_error(&AppError::invalid_field("windows[0]", "x"));
        assert_eq!(cell.field, "受理窗口!B9");
        let cell = origin.cell_error(&AppError::Conflict("x".into()));
        assert_eq!((cell.column.as_str(), cell.field.as_str()), ("", "事项!7"));
        assert_eq!(
            cell.into_app_error().field(),
            Some("事项!7"),
            "the cell travels as the error's field"
        );
    }

    #[test]
    fn every_field_of_a_matter_has_its_column() {
        assert_eq!(MATTER_FIELDS.len(), MATTER_COLUMNS.len());
        assert_eq!(MATTER_COLUMNS[30], "负面清单原因");
        assert_eq!(MATTER_FIELDS[30], "outside_reason");
    }
}
