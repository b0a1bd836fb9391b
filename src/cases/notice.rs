//! Written notices as A4 PDFs (SPEC R6.1, R6.5): the 受理通知书 with its 材料接收清单, the
//! 补正告知书 (一次性告知), the 不予受理通知书 and the 延期告知书. The wording is composed here,
//! in one place, from the 行政许可法 (§32 acceptance and refusal, §42–45 time limits); the
//! typst template (`templates/cases/notice.typ`) only lays it out. Fonts are read once from the
//! configured font directory (Debian `fonts-noto-cjk` or `fonts-wqy-microhei`) and embedded,
//! subset, in every PDF. Typesetting runs on the blocking pool, a few at a time, so a burst of
//! notices queues instead of growing the server's memory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use tokio::sync::Semaphore;
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::TypstEngine;
use typst_layout::PagedDocument;

use super::service::Full;
use super::{CaseKind, MaterialState};
use crate::error::{AppError, AppResult};

const TEMPLATE: &str = include_str!("../../templates/cases/notice.typ");

crate::text_enum! {
    /// Which notice, with its title.
    pub enum NoticeKind {
        /// With the 材料接收清单.
        Accept = "accept" => "受理通知书",
        /// 一次性告知.
        Missing = "missing" => "补正材料告知书",
        Refuse = "refuse" => "不予受理通知书",
        Extension = "extension" => "延期办理告知书",
    }
}

/// A table of the notice.
#[derive(Clone, Debug, Serialize)]
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    /// Relative column widths.
    pub widths: Vec<u32>,
    pub rows: Vec<Vec<String>>,
}

/// Everything a notice says, in order.
#[derive(Clone, Debug, Serialize)]
pub struct Notice {
    pub title: String,
    pub center: String,
    pub number: String,
    pub to: String,
    pub paragraphs: Vec<String>,
    pub items: Vec<String>,
    pub table: Option<Table>,
    pub after: Vec<String>,
    pub date: String,
    pub qr: String,
    pub url: String,
}

fn chinese_date(d: jiff::civil::Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// The applicant's day of application: the case's creation day in Beijing.
fn received_day(full: &Full) -> jiff::civil::Date {
    full.case
        .created_at
        .timestamp()
        .in_tz(crate::clock::HALL_TZ)
        .map(|z| z.date())
        .unwrap_or(full.today)
}

/// Composes the notice of `kind` for a case, or says why the case has none.
pub fn compose(full: &Full, kind: NoticeKind, url: &str) -> AppResult<Notice> {
    let c = &full.case;
    let who = "你（单位）";
    let applied = format!(
        "{who}于{}提出的“{}”申请（办件编号：{}）",
        chinese_date(received_day(full)),
        full.matter_name,
        c.number
    );
    let mut paragraphs = Vec::new();
    let mut items = Vec::new();
    let mut table = None;
    let mut after = Vec::new();
    let none = |what: &str| {
        Err(AppError::NotFound(format!(
            "办件“{}”没有{what}（当前状态：{}）",
            c.number,
            c.state.label()
        )))
    };
    let day = match kind {
        NoticeKind::Accept => {
            let Some(accepted) = c.accepted_on else {
                return none("受理通知书");
            };
            paragraphs.push(format!(
                "{applied}，经审查，申请事项属于本机关职权范围，申请材料齐全、符合法定形式，根据《中华人民共和国行政许可法》第三十二条第一款第（五）项的规定，决定予以受理。"
            ));
            match (c.kind, c.due_on) {
                (CaseKind::Immediate, _) => {
                    paragraphs.push("本事项为即办件，当场（当日）办结。".into())
                }
                (_, Some(due)) => {
                    let legal = c
                        .legal_days
                        .map(|d| format!("法定办结时限为{d}个工作日，"))
                        .unwrap_or_default();
                    let limit = c.limit_days.unwrap_or(0);
                    paragraphs.push(format!(
                        "本事项{legal}承诺办结时限为{limit}个工作日，自受理之日的次日起计算，法定节假日不计算在内，应于{}前办结。依法需要听证、招标、拍卖、检验、检测、检疫、鉴定和专家评审的，所需时间不计算在上述期限内，本机关将书面告知所需时间（《中华人民共和国行政许可法》第四十二条、第四十五条）。",
                        chinese_date(due.date())
                    ));
                }
                _ => {}
            }
            let tolerated: Vec<_> = full
                .materials
                .iter()
                .filter(|m| m.state == MaterialState::Tolerated)
                .collect();
            if !tolerated.is_empty() {
                let by = tolerated
                    .iter()
                    .filter_map(|m| m.due_on)
                    .min()
                    .map(|d| chinese_date(d.date()))
                    .unwrap_or_default();
                let names: Vec<_> = tolerated.iter().map(|m| format!("“{}”", m.name)).collect();
                paragraphs.push(format!(
                    "根据{who}的书面承诺，本件按容缺受理：{}请于{by}前补交；逾期未补交的，本机关将依法处理。",
                    names.join("、") + "，"
                ));
            }
            if c.commitment != 0 {
                paragraphs.push(format!(
                    "本事项实行告知承诺制，本机关根据{who}的书面承诺作出决定；承诺不实的，将依法撤销决定并追究相应责任。"
                ));
            }
            if !c.fast_track.is_empty() {
                paragraphs.push(format!("本件按特事特办程序办理（{}）。", c.fast_track));
            }
            table = Some(Table {
                title: "材料接收清单".into(),
                headers: ["序号", "材料名称", "形式", "份数", "接收情况"]
                    .map(String::from)
                    .to_vec(),
                widths: vec![2, 10, 5, 2, 4],
                rows: full
                    .materials
                    .iter()
                    .map(|m| {
                        vec![
                            m.position.to_string(),
                            m.name.clone(),
                            m.form_label().into(),
                            m.copies.to_string(),
                            m.state.label().into(),
                        ]
                    })
                    .collect(),
            });
            accepted.date()
        }
        NoticeKind::Missing => {
            let missing = c.missing_items();
            if missing.is_empty() {
                return none("补正告知书");
            }
            paragraphs.push(format!(
                "{applied}，经审查，申请材料不齐全或者不符合法定形式。根据《中华人民共和国行政许可法》第三十二条第一款第（四）项的规定，现一次性告知{who}需要补正的全部内容如下："
            ));
            items = missing;
            after.push(format!(
                "请{who}按上述要求补正后，持本告知书到窗口继续办理，办件编号不变，已提交的材料无需重复提交。补正材料齐全、符合法定形式的，本机关予以受理。"
            ));
            full.today
        }
        NoticeKind::Refuse => {
            if c.refusal_reason.is_empty() {
                return none("不予受理通知书");
            }
            let reason = c.refusal_reason.trim_end_matches(['。', '；', ';', '.']);
            paragraphs.push(format!(
                "{applied}，经审查，{reason}。根据{}的规定，决定不予受理。",
                c.refusal_basis
            ));
            paragraphs.push(format!(
                "{who}如不服本决定，可以自收到本通知书之日起六十日内依法申请行政复议，或者自收到本通知书之日起六个月内依法向人民法院提起行政诉讼。"
            ));
            c.closed_at
                .and_then(|t| t.timestamp().in_tz(crate::clock::HALL_TZ).ok())
                .map(|z| z.date())
                .unwrap_or(full.today)
        }
        NoticeKind::Extension => {
            let Some(ext) = full.extensions.iter().rev().find(|e| e.state == "approved") else {
                return none("延期告知书");
            };
            let (Some(accepted), Some(due)) = (c.accepted_on, c.due_on) else {
                return none("延期告知书");
            };
            paragraphs.push(format!(
                "本机关于{}受理的{applied}，因{}，不能在承诺期限内作出决定。根据《中华人民共和国行政许可法》第四十二条第一款的规定，经本机关负责人批准，办理期限延长{}个工作日，现办结期限为{}。",
                chinese_date(accepted.date()),
                ext.reason.trim_end_matches('。'),
                ext.days,
                chinese_date(due.date())
            ));
            full.today
        }
    };
    after.push(format!(
        "办理进度可凭办件编号和申请人姓名在 {url} 查询，或扫描下方二维码。"
    ));
    Ok(Notice {
        title: kind.label().into(),
        center: full.center_name.clone(),
        number: c.number.clone(),
        to: c.applicant_name.clone(),
        paragraphs,
        items,
        table,
        after,
        date: chinese_date(day),
        qr: qr_svg(url),
        url: url.into(),
    })
}

fn qr_svg(url: &str) -> String {
    match qrcode::QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(160, 160)
            .build(),
        Err(_) => "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>".into(),
    }
}

/// Memoised results that no compilation among the last this many used are evicted.
const EVICT_AFTER: usize = 4;

/// The typesetter: one engine with the fonts, shared by every request.
pub struct Typesetter {
    engine: TypstEngine<typst_as_lib::TypstTemplateMainFile>,
    /// How many notices are set at once.
    permits: Semaphore,
}

static TYPESETTER: OnceLock<Result<Arc<Typesetter>, String>> = OnceLock::new();

/// Font files under `dir` that carry Chinese: Noto CJK (sans and serif) or WenQuanYi.
pub fn cjk_fonts(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let cjk = [
                "NotoSerifCJK-Regular",
                "NotoSansCJK-Regular",
                "NotoSansCJK-Bold",
                "NotoSerifCJK-Bold",
                "wqy-microhei",
            ]
            .iter()
            .any(|f| name.starts_with(f));
            let font = [".ttc", ".otf", ".ttf"].iter().any(|x| name.ends_with(x));
            if cjk && font {
                out.push(p);
            }
        }
    }
    out.sort();
    // The notices use Noto Serif CJK regular and Noto Sans CJK bold: where both are there,
    // the other faces (some 45 MB more) are not loaded.
    let has = |prefix: &str| {
        out.iter().any(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
    };
    if has("NotoSerifCJK-Regular") && has("NotoSansCJK-Bold") {
        out.retain(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("NotoSerifCJK-Regular") || n.starts_with("NotoSansCJK-Bold")
            })
        });
    }
    out
}

fn build(dir: &Path) -> Result<Arc<Typesetter>, String> {
    let files = cjk_fonts(dir);
    if files.is_empty() {
        return Err(format!(
            "在 {} 下没有找到中文字体，无法生成通知书。请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）或在配置 font_dir 中指定字体目录",
            dir.display()
        ));
    }
    let mut fonts = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| format!("读取字体 {} 失败：{e}", f.display()))?;
        fonts.push(bytes);
    }
    let engine = TypstEngine::builder()
        .main_file(TEMPLATE)
        .fonts(fonts)
        .build();
    let permits = std::thread::available_parallelism().map_or(2, |n| n.get());
    Ok(Arc::new(Typesetter {
        engine,
        permits: Semaphore::new(permits),
    }))
}

/// The typesetter for `font_dir`, built on first use.
pub fn typesetter(font_dir: &str) -> AppResult<Arc<Typesetter>> {
    TYPESETTER
        .get_or_init(|| build(Path::new(font_dir)))
        .clone()
        .map_err(AppError::Unavailable)
}

impl Typesetter {
    /// Sets `notice` as a PDF.
    pub async fn pdf(self: &Arc<Self>, notice: &Notice) -> AppResult<Vec<u8>> {
        let data =
            serde_json::to_string(notice).map_err(|e| AppError::internal_from("notice data", e))?;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| AppError::internal_from("notice permits", e))?;
        let me = self.clone();
        let pdf = tokio::task::spawn_blocking(move || me.pdf_now(data))
            .await
            .map_err(|e| AppError::internal_from("notice task", e))?;
        // Typst memoises every compilation (comemo); without eviction each notice's results
        // stay cached for good and a burst of notices grows the server by hundreds of MB.
        // Results unused over the last few compilations are dropped; the template's and the
        // fonts' stay warm because every notice uses them.
        typst::comemo::evict(EVICT_AFTER);
        pdf
    }

    fn pdf_now(&self, data: String) -> AppResult<Vec<u8>> {
        let mut inputs = Dict::new();
        inputs.insert("data".into(), data.into_value());
        let doc: PagedDocument = self
            .engine
            .compile_with_input(inputs)
            .output
            .map_err(|e| AppError::internal(format!("typst: {e:?}")))?;
        typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
            .map_err(|e| AppError::internal(format!("typst pdf: {e:?}")))
    }
}
