//! The county center's own demo catalogue (`data/catalog/county.tsv`): a level-1 category for
//! each of the 11 categories seed 000 §3.2.1 puts on the 延时错时规定目录 (医保, 社保, 不动产交易
//! 与登记, 公积金, 水电气, 企业注册登记, 税务, 户籍, 婚姻登记, 出入境, 车驾管理), then a few on
//! the 预约服务目录, each matter with its kind and limits, and its 受理权/收件权 at the county
//! hall's zone windows (seed 000 §2.4.2).

use std::collections::HashMap;

use crate::catalog::{CASE_KINDS, LIMIT_UNITS, MatterInput, WindowRight, code_of, store};
use crate::{
    audit::Actor,
    db::Tx,
    error::{AppError, AppResult},
};

const ITEMS: &str = include_str!("../../../data/catalog/county.tsv");

/// A level-1 category of the county catalogue.
struct Category {
    code: &'static str,
    name: &'static str,
    department: &'static str,
    /// Its 延时错时规定目录 category, or none (预约服务目录).
    mandated: Option<&'static str>,
    /// Where it is taken in: (window, `accept` 受理 or `collect` 收件).
    windows: &'static [(&'static str, &'static str)],
    consult_phone: &'static str,
    /// The zone whose windows take it, for 办理地点.
    zone: &'static str,
}

const CATEGORIES: &[Category] = &[
    Category {
        code: "C01",
        name: "医疗保障",
        department: "医保局",
        mandated: Some("医保"),
        windows: &[("RS01", "accept"), ("RS02", "accept"), ("TY01", "collect")],
        consult_phone: "0797-0000201",
        zone: "人社医保专区",
    },
    Category {
        code: "C02",
        name: "社会保险",
        department: "人社局",
        mandated: Some("社保"),
        windows: &[("RS01", "accept"), ("RS02", "accept"), ("TY01", "collect")],
        consult_phone: "0797-0000202",
        zone: "人社医保专区",
    },
    Category {
        code: "C03",
        name: "不动产交易与登记",
        department: "自然资源局",
        mandated: Some("不动产交易与登记"),
        windows: &[("BDC01", "accept"), ("BDC02", "accept")],
        consult_phone: "0797-0000203",
        zone: "不动产登记专区",
    },
    Category {
        code: "C04",
        name: "住房公积金",
        department: "住房公积金中心",
        mandated: Some("公积金"),
        windows: &[("GJ01", "accept"), ("TY02", "collect")],
        consult_phone: "0797-0000204",
        zone: "公积金专区",
    },
    Category {
        code: "C05",
        name: "水电气",
        department: "供水供电燃气企业",
        mandated: Some("水电气"),
        windows: &[("TY03", "accept"), ("TY02", "collect")],
        consult_phone: "0797-0000205",
        zone: "通用综合专区",
    },
    Category {
        code: "C06",
        name: "企业注册登记",
        department: "市监局",
        mandated: Some("企业注册登记"),
        windows: &[("SC01", "accept"), ("TY01", "collect"), ("TY02", "collect")],
        consult_phone: "0797-0000206",
        zone: "市场准入专区",
    },
    Category {
        code: "C07",
        name: "税务",
        department: "税务局",
        mandated: Some("税务"),
        windows: &[("SW01", "accept")],
        consult_phone: "0797-0000207",
        zone: "税务集成专区",
    },
    Category {
        code: "C08",
        name: "户籍与身份证",
        department: "公安局",
        mandated: Some("户籍"),
        windows: &[("GA01", "accept")],
        consult_phone: "0797-0000208",
        zone: "公安集成专区",
    },
    Category {
        code: "C09",
        name: "婚姻登记",
        department: "民政局",
        mandated: Some("婚姻登记"),
        windows: &[("TY03", "accept")],
        consult_phone: "0797-0000209",
        zone: "通用综合专区",
    },
    Category {
        code: "C10",
        name: "出入境",
        department: "公安局出入境管理大队",
        mandated: Some("出入境"),
        windows: &[("GA01", "accept")],
        consult_phone: "0797-0000210",
        zone: "公安集成专区",
    },
    Category {
        code: "C11",
        name: "车驾管理",
        department: "公安局交警大队",
        mandated: Some("车驾管理"),
        windows: &[("GA01", "accept")],
        consult_phone: "0797-0000211",
        zone: "公安集成专区",
    },
    Category {
        code: "C12",
        name: "社会救助与福利",
        department: "民政局",
        mandated: None,
        windows: &[("TY03", "accept"), ("TY01", "collect")],
        consult_phone: "0797-0000212",
        zone: "通用综合专区",
    },
    Category {
        code: "C13",
        name: "卫生健康",
        department: "卫健委",
        mandated: None,
        windows: &[("TY03", "accept")],
        consult_phone: "0797-0000213",
        zone: "通用综合专区",
    },
    Category {
        code: "C14",
        name: "工程建设项目",
        department: "住建局",
        mandated: None,
        windows: &[("GC01", "accept")],
        consult_phone: "0797-0000214",
        zone: "工程建设项目专区",
    },
];

/// One row of `county.tsv`.
#[derive(Clone, Debug)]
pub struct Item {
    pub category: String,
    pub type_name: String,
    pub name: String,
    /// 办件类型 code.
    pub kind: &'static str,
    pub legal_limit: i64,
    pub promised_limit: i64,
    /// 时限单位 code.
    pub unit: &'static str,
    pub note: String,
}

/// The rows as shipped; a row that does not read is an error naming its line.
pub fn items() -> AppResult<Vec<Item>> {
    let mut out = Vec::new();
    for (n, l) in ITEMS.lines().enumerate() {
        if l.starts_with('#') || l.trim().is_empty() {
            continue;
        }
        let bad = || AppError::internal(format!("data/catalog/county.tsv line {}", n + 1));
        let c: Vec<&str> = l.split('\t').map(str::trim).collect();
        let cell = |i: usize| c.get(i).copied().ok_or_else(bad);
        let number = |i: usize| cell(i)?.parse::<i64>().map_err(|_| bad());
        out.push(Item {
            category: cell(0)?.into(),
            type_name: cell(1)?.into(),
            name: cell(2)?.into(),
            kind: code_of(CASE_KINDS, cell(3)?).ok_or_else(bad)?,
            legal_limit: number(4)?,
            promised_limit: number(5)?,
            unit: code_of(LIMIT_UNITS, cell(6)?).ok_or_else(bad)?,
            note: c.get(7).copied().unwrap_or("").into(),
        });
    }
    Ok(out)
}

/// The code of a county category or matter: `GXZX-C01`, `GXZX-C01-03`.
fn code(category: &str, n: Option<usize>) -> String {
    match n {
        None => format!("GXZX-{category}"),
        Some(n) => format!("GXZX-{category}-{n:02}"),
    }
}

/// The matters of the county catalogue as saved: categories before their matters.
pub fn matters(center: &str, types: &HashMap<String, String>) -> AppResult<Vec<MatterInput>> {
    let items = items()?;
    let mut out = Vec::new();
    for (i, cat) in CATEGORIES.iter().enumerate() {
        out.push(MatterInput {
            code: code(cat.code, None),
            center: center.into(),
            node: "category".into(),
            name: cat.name.into(),
            sort_order: i as i64 + 1,
            department: cat.department.into(),
            ..Default::default()
        });
        for (n, item) in items
            .iter()
            .filter(|it| it.category == cat.code)
            .enumerate()
        {
            let type_code = types.get(&item.type_name).cloned().ok_or_else(|| {
                AppError::internal(format!(
                    "county item {}: unknown type {}",
                    item.name, item.type_name
                ))
            })?;
            out.push(MatterInput {
                code: code(cat.code, Some(n + 1)),
                parent: Some(code(cat.code, None)),
                center: center.into(),
                node: "matter".into(),
                name: item.name.clone(),
                sort_order: n as i64 + 1,
                type_code,
                department: cat.department.into(),
                level: "county".into(),
                kind: item.kind.into(),
                legal_limit: Some(item.legal_limit),
                promised_limit: Some(item.promised_limit),
                limit_unit: item.unit.into(),
                consult_phone: cat.consult_phone.into(),
                complaint_phone: "0797-12345".into(),
                duty_phone: "0797-0000000".into(),
                place: format!("赣县区政务服务中心 {}", cat.zone),
                hours:
                    "工作日 8:30–12:00，14:00–17:00（冬季下午 13:30–16:30）；午间及周末延时错时服务"
                        .into(),
                delivery: "窗口领取；邮政专递（政务专递）".into(),
                notes: item.note.clone(),
                list_kind: if cat.mandated.is_some() {
                    "mandated"
                } else {
                    "booking"
                }
                .into(),
                list_category: cat.mandated.unwrap_or("").into(),
                windows: cat
                    .windows
                    .iter()
                    .map(|(w, r)| WindowRight {
                        window: (*w).into(),
                        rights: (*r).into(),
                        window_name: String::new(),
                    })
                    .collect(),
                ..Default::default()
            });
        }
    }
    Ok(out)
}

/// Loads the county catalogue into the center `center` (its code) inside the demo transaction.
pub async fn load(tx: &mut Tx, actor: &Actor, center: &str, now: i64) -> AppResult<()> {
    let types = super::type_codes(tx).await?;
    for m in matters(center, &types)? {
        store::save(tx, actor, &m, "create", now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{MANDATED_CATEGORIES, validate::normalise};

    fn types() -> HashMap<String, String> {
        [
            ("行政许可", "licence"),
            ("行政确认", "confirmation"),
            ("行政给付", "payment"),
            ("其他行政权力", "other_power"),
            ("公共服务", "public_service"),
        ]
        .iter()
        .map(|(n, c)| ((*n).to_owned(), (*c).to_owned()))
        .collect()
    }

    #[test]
    fn the_county_catalogue_covers_the_eleven_mandated_categories() {
        let all = matters("GX", &types()).unwrap();
        for c in MANDATED_CATEGORIES {
            let n = all
                .iter()
                .filter(|m| m.node == "matter" && m.list_category == *c)
                .count();
            assert!(n >= 3, "{c}: {n} matters");
        }
        // Every row belongs to a category.
        let rows = items().unwrap();
        assert_eq!(
            all.iter().filter(|m| m.node == "matter").count(),
            rows.len()
        );
    }

    #[test]
    fn every_county_matter_passes_the_catalogue_checks() {
        for m in matters("GX", &types()).unwrap() {
            if let Err(e) = normalise(&m) {
                panic!("{} {}: {}", m.code, m.name, e.public_message());
            }
        }
    }
}
