//! Demo catalogue: the 102 items of seed 004 附件2 (赣县区乡（镇）事项通用目录清单) under the
//! township center, grouped by 行业指导部门 as level-1 categories, with complete guides and
//! 受理审查要点 for a few common 办事情形 (`data/catalog/guides.toml`). The county center's own
//! catalogue is in [`county`].

pub mod county;

use std::collections::HashMap;

use serde::Deserialize;

use crate::catalog::{MatterInput, queries, store};
use crate::{
    audit::Actor,
    db::Tx,
    error::{AppError, AppResult},
};

const ITEMS: &str = include_str!("../../../data/catalog/township.tsv");
const GUIDES: &str = include_str!("../../../data/catalog/guides.toml");

/// One row of 附件2.
#[derive(Clone, Debug)]
pub struct Item {
    pub no: u32,
    pub department: String,
    pub type_name: String,
    pub name: String,
    pub note: String,
}

/// The 102 items as shipped.
pub fn items() -> Vec<Item> {
    ITEMS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Some(Item {
                no: c.first()?.trim().parse().ok()?,
                department: c.get(1)?.trim().into(),
                type_name: c.get(2)?.trim().into(),
                name: c.get(3)?.trim().into(),
                note: c.get(4).map(|s| s.trim()).unwrap_or("").into(),
            })
        })
        .collect()
}

#[derive(Deserialize)]
struct GuideFile {
    guide: Vec<GuideData>,
}

#[derive(Deserialize)]
struct GuideData {
    item: u32,
    #[serde(default)]
    situation: Option<String>,
    #[serde(flatten)]
    fields: MatterInput,
}

fn guides() -> AppResult<Vec<GuideData>> {
    let c = config::Config::builder()
        .add_source(config::File::from_str(GUIDES, config::FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize::<GuideFile>())
        .map_err(|e| AppError::internal(format!("data/catalog/guides.toml: {e}")))?;
    Ok(c.guide)
}

/// Level-1 categories (大类) in the order of 附件2: (department, category name, code).
fn category(department: &str) -> (&'static str, &'static str) {
    match department {
        "民政局" => ("C01", "民政"),
        "残联" => ("C02", "残疾人服务"),
        "财政局" => ("C03", "惠农补贴"),
        "人社局" => ("C04", "社会保险"),
        "农业农村局" => ("C05", "农业农村"),
        "卫健委" => ("C06", "卫生健康"),
        "退役军人事务局" => ("C07", "退役军人事务"),
        "医保局" => ("C08", "医疗保障"),
        "自然资源分局" => ("C09", "自然资源与不动产登记"),
        "市监局" => ("C10", "市场主体登记"),
        "公安局" => ("C11", "户籍与身份证"),
        _ => ("C99", "其他"),
    }
}

/// The 延时错时规定目录 category of an item, if it is on that list (seed 000 §3.2.1).
fn mandated(item: &Item) -> Option<&'static str> {
    match item.department.as_str() {
        "医保局" => Some("医保"),
        "人社局" => Some("社保"),
        "市监局" => Some("企业注册登记"),
        "公安局" => Some("户籍"),
        "自然资源分局" if item.type_name == "行政确认" => Some("不动产交易与登记"),
        _ => None,
    }
}

/// Windows of the township center that take an item: 受理权 at the department's window,
/// 收件权 at the general windows (seed 000 §2.4.2).
fn window_rights(department: &str) -> Vec<(&'static str, &'static str)> {
    match department {
        "公安局" => vec![("GA01", "accept")],
        "自然资源分局" | "市监局" => vec![("TY01", "accept"), ("TY02", "accept")],
        _ => vec![("GG01", "accept"), ("TY01", "collect"), ("TY02", "collect")],
    }
}

/// An item's 办事情形 when its name lists several (设立、变更、注销登记 → three).
fn situations(item: &Item) -> Vec<(String, String)> {
    if let Some(stem) = item.name.strip_suffix("设立、变更、注销登记") {
        return ["设立", "变更", "注销"]
            .iter()
            .map(|s| ((*s).to_owned(), format!("{stem}{s}登记")))
            .collect();
    }
    if item.no == 70 {
        return vec![
            ("个人".into(), "不动产登记证明换发补发（个人）".into()),
            ("单位".into(), "不动产登记证明换发补发（单位）".into()),
        ];
    }
    Vec::new()
}

fn code(no: u32) -> String {
    format!("GXML-{no:03}")
}

/// The 事项类型 codes by their names, as the demo data names the types.
async fn type_codes(tx: &mut Tx) -> AppResult<HashMap<String, String>> {
    Ok(queries::types_in(tx)
        .await?
        .into_iter()
        .map(|(c, n)| (n, c))
        .collect())
}

/// Loads the demo catalogue into the center `center` (its code) inside the demo transaction.
pub async fn load(tx: &mut Tx, actor: &Actor, center: &str, now: i64) -> AppResult<()> {
    let types = type_codes(tx).await?;
    let mut guides: HashMap<(u32, String), MatterInput> = guides()?
        .into_iter()
        .map(|g| ((g.item, g.situation.unwrap_or_default()), g.fields))
        .collect();
    let mut seen_categories = Vec::new();
    for item in items() {
        let (cat_code, cat_name) = category(&item.department);
        let cat_code = format!("GXML-{cat_code}");
        if !seen_categories.contains(&cat_code) {
            let c = MatterInput {
                code: cat_code.clone(),
                center: center.into(),
                node: "category".into(),
                name: cat_name.into(),
                sort_order: seen_categories.len() as i64 + 1,
                department: item.department.clone(),
                ..Default::default()
            };
            store::save(tx, actor, &c, "create", now).await?;
            seen_categories.push(cat_code.clone());
        }
        let type_code = types.get(&item.type_name).cloned().ok_or_else(|| {
            AppError::internal(format!(
                "demo item {}: unknown type {}",
                item.no, item.type_name
            ))
        })?;
        let base = MatterInput {
            code: code(item.no),
            parent: Some(cat_code),
            center: center.into(),
            node: "matter".into(),
            name: item.name.clone(),
            sort_order: i64::from(item.no),
            type_code,
            department: item.department.clone(),
            level: "township".into(),
            kind: "promised".into(),
            notes: item.note.clone(),
            list_kind: if mandated(&item).is_some() {
                "mandated"
            } else {
                "booking"
            }
            .into(),
            list_category: mandated(&item).unwrap_or("").into(),
            consult_phone: "0797-0000001".into(),
            duty_phone: "0797-0000001".into(),
            place: "梅林镇综合便民服务中心一楼".into(),
            windows: window_rights(&item.department)
                .into_iter()
                .map(|(w, r)| crate::catalog::WindowRight {
                    window: w.into(),
                    rights: r.into(),
                    window_name: String::new(),
                })
                .collect(),
            ..Default::default()
        };
        let with_guide = |m: MatterInput, g: Option<MatterInput>| match g {
            None => m,
            Some(g) => MatterInput {
                code: m.code,
                parent: m.parent,
                center: m.center,
                node: m.node,
                name: m.name,
                sort_order: m.sort_order,
                type_code: m.type_code,
                department: m.department,
                list_kind: g.list_kind.clone(),
                windows: m.windows,
                ..g
            },
        };
        let parts = situations(&item);
        if parts.is_empty() {
            let g = guides.remove(&(item.no, String::new()));
            store::save(tx, actor, &with_guide(base, g), "create", now).await?;
        } else {
            store::save(tx, actor, &base, "create", now).await?;
            for (i, (key, name)) in parts.into_iter().enumerate() {
                let m = MatterInput {
                    code: format!("{}-{}", code(item.no), i + 1),
                    parent: Some(code(item.no)),
                    name,
                    sort_order: i as i64 + 1,
                    ..base.clone()
                };
                let g = guides.remove(&(item.no, key));
                store::save(tx, actor, &with_guide(m, g), "create", now).await?;
            }
        }
    }
    if let Some((k, _)) = guides.into_iter().next() {
        return Err(AppError::internal(format!(
            "data/catalog/guides.toml: no item {} {}",
            k.0, k.1
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_has_the_102_items_of_the_seed() {
        let items = items();
        assert_eq!(items.len(), 102);
        assert!(
            items
                .iter()
                .enumerate()
                .all(|(i, it)| it.no as usize == i + 1)
        );
        assert_eq!(items[94].name, "首次申领居民身份证");
        assert_eq!(items[78].note, "进驻专业大厅");
    }

    #[test]
    fn no_shipped_guide_contradicts_its_kind() {
        for g in guides().unwrap() {
            let f = &g.fields;
            if let Err(e) = crate::catalog::validate::check_kind_and_limit(
                &f.kind,
                f.promised_limit,
                &f.limit_unit,
            ) {
                panic!("guide of item {}: {}", g.item, e.public_message());
            }
        }
    }

    #[test]
    fn the_shipped_guides_parse() {
        let g = guides().unwrap();
        assert!(g.len() >= 3);
        assert!(g.iter().all(|g| !g.fields.review_form.is_empty()));
        assert!(
            g.iter()
                .any(|g| g.fields.materials.iter().any(|m| m.tolerable))
        );
    }
}
