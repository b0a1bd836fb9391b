//! A synthetic catalogue for benchmarks: `yichuang catalog generate --situations N` adds N
//! 办事情形 under 100 level-1 categories and 1,000 level-2 matters, with names built from
//! the words of real catalogues so that search sees realistic tokens.

use super::{MatterInput, store};
use crate::{audit::Actor, db::Tx, error::AppResult};

pub(crate) const SUBJECTS: &[&str] = &[
    "不动产",
    "户口",
    "居民身份证",
    "社会保障卡",
    "医疗保险",
    "养老保险",
    "营业执照",
    "食品经营许可",
    "建设工程",
    "公积金",
    "婚姻",
    "出入境证件",
    "机动车",
    "驾驶证",
    "残疾人证",
    "低保",
    "临时救助",
    "个体工商户",
    "农民专业合作社",
    "道路运输",
    "排污许可",
    "林木采伐",
    "取水许可",
    "药品经营",
    "教师资格",
];
pub(crate) const ACTIONS: &[&str] = &[
    "登记", "变更", "注销", "补领", "换领", "申领", "迁入", "迁出", "认定", "审批", "备案", "查询",
    "转移", "核定", "延续", "撤销", "更正",
];
pub(crate) const QUALIFIERS: &[&str] = &[
    "（个人）",
    "（单位）",
    "（首次）",
    "（遗失）",
    "（损坏）",
    "（期满）",
    "（跨省）",
    "（省内）",
    "",
];

/// A deterministic name for situation `i`.
pub fn name(i: usize) -> String {
    let s = SUBJECTS[i % SUBJECTS.len()];
    let a = ACTIONS[(i / SUBJECTS.len()) % ACTIONS.len()];
    let q = QUALIFIERS[(i / (SUBJECTS.len() * ACTIONS.len())) % QUALIFIERS.len()];
    format!(
        "{s}{a}{q}{}",
        i / (SUBJECTS.len() * ACTIONS.len() * QUALIFIERS.len())
    )
}

/// Adds `n` situations to `center` with codes `SYN-…` (an existing code is updated).
pub async fn generate(tx: &mut Tx, center: &str, n: usize, now: i64) -> AppResult<usize> {
    let actor = Actor::cli();
    let per_matter = n.div_ceil(1000).max(1);
    let mut made = 0;
    for c in 0..100usize {
        let cat = format!("SYN-{c:03}");
        store::save(
            tx,
            &actor,
            &MatterInput {
                code: cat.clone(),
                center: center.into(),
                node: "category".into(),
                name: format!("{}类事项{c}", SUBJECTS[c % SUBJECTS.len()]),
                ..Default::default()
            },
            "generate",
            now,
        )
        .await?;
        for m in 0..10usize {
            if made >= n {
                break;
            }
            let mcode = format!("{cat}-{m}");
            let mi = c * 10 + m;
            let matter = MatterInput {
                code: mcode.clone(),
                parent: Some(cat.clone()),
                center: center.into(),
                node: "matter".into(),
                name: format!(
                    "{}{}",
                    SUBJECTS[mi % SUBJECTS.len()],
                    ACTIONS[mi % ACTIONS.len()]
                ),
                type_code: "public_service".into(),
                department: format!("{}管理局", SUBJECTS[mi % SUBJECTS.len()]),
                kind: "promised".into(),
                ..Default::default()
            };
            store::save(tx, &actor, &matter, "generate", now).await?;
            for s in 0..per_matter {
                if made >= n {
                    break;
                }
                let situation = MatterInput {
                    code: format!("{mcode}-{s}"),
                    parent: Some(mcode.clone()),
                    name: name(made),
                    kind: if s % 2 == 0 { "immediate" } else { "promised" }.into(),
                    ..matter.clone()
                };
                store::save(tx, &actor, &situation, "generate", now).await?;
                made += 1;
            }
        }
    }
    Ok(made)
}
