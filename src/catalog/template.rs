//! 一乡镇一目录 (seed 002 §三(二)2; seed 004 附件2, the county's 乡（镇）事项通用目录清单): a
//! township takes a template center's catalogue as the start of its own. Every node of the
//! template is copied under the code `{township}.{template code}`, with the township's place
//! and phone, and the window rights whose window code the township also has. Taking it again
//! copies only what the township does not hold yet (its own edits stay), so the action is
//! idempotent; it runs in one transaction, so a refusal copies nothing; each copy and the
//! action itself are audited.

use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::{
    MatterInput, queries,
    search::Cuts,
    store::{self, Saved},
    validate::parse_code,
};
use crate::{
    app::App,
    audit::{self, Actor},
    auth::CurrentUser,
    error::{AppError, AppResult},
    hall::{Center, centers},
};

/// What taking a template did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct AdoptReport {
    /// The template center's code.
    pub template: String,
    /// Nodes (categories and matters) copied now.
    pub created: i64,
    /// Nodes the township already held from an earlier take, left as they are.
    pub kept: i64,
    /// Copied matters none of whose windows the township has: it still has to name one.
    pub without_window: i64,
}

/// The code of a template node in the township's catalogue: `GX-ML2.GXML-001`; when that
/// would pass the 64 characters of a code, the template code's hash stands for it.
pub fn copy_code(township: &str, code: &str) -> String {
    let full = format!("{township}.{code}");
    if full.len() <= 64 {
        return full;
    }
    // FNV-1a: stable across builds and platforms, unlike the std hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in code.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{township}.{h:016x}")
}

/// The township's copy of a template node.
fn copy_of(
    m: &MatterInput,
    township: &Center,
    template: &Center,
    windows: &[String],
) -> MatterInput {
    let mut c = m.clone();
    c.code = copy_code(&township.code, &m.code);
    c.parent = m.parent.as_deref().map(|p| copy_code(&township.code, p));
    c.center = township.code.clone();
    c.windows.retain(|w| windows.contains(&w.window));
    for w in &mut c.windows {
        w.window_name.clear();
    }
    if c.node == "matter" {
        // Handled by the township now; at its hall and its phone where the template named
        // its own.
        c.level = "township".into();
        if !township.address.is_empty() {
            c.place = township.address.clone();
        }
        for phone in [&mut c.consult_phone, &mut c.duty_phone] {
            if !township.phone.is_empty() && (phone.is_empty() || *phone == template.phone) {
                *phone = township.phone.clone();
            }
        }
    }
    c
}

/// Copies the catalogue of the center `template` into the township `township` for `user`,
/// who must manage the township.
pub async fn adopt(
    app: &App,
    user: &CurrentUser,
    township: &str,
    template: &str,
) -> AppResult<AdoptReport> {
    let target = centers::by_code(app.db.pool(), township.trim()).await?;
    user.require_manage(target.id)?;
    if target.level != "township" {
        return Err(AppError::invalid_field(
            "center",
            format!(
                "“{}”不是乡镇（街道）便民服务中心；模板目录只供乡镇采用（一乡镇一目录）",
                target.name
            ),
        ));
    }
    let template = template.trim();
    if template.is_empty() {
        return Err(AppError::invalid_field("template", "请选择模板中心"));
    }
    let source = centers::by_code(app.db.pool(), template)
        .await
        .map_err(|e| match e {
            AppError::NotFound(m) => AppError::invalid_field("template", m),
            e => e,
        })?;
    if source.id == target.id {
        return Err(AppError::invalid_field(
            "template",
            "模板中心不能是本中心自己",
        ));
    }
    let nodes = {
        let mut conn = app.db.pool().acquire().await?;
        queries::export(&mut conn, Some(&source.code)).await?
    };
    if nodes.is_empty() {
        return Err(AppError::invalid_field(
            "template",
            format!("“{}”还没有事项目录，不能作为模板", source.name),
        ));
    }
    for n in &nodes {
        parse_code(&copy_code(&target.code, &n.code)).map_err(|e| {
            AppError::invalid_field(
                "template",
                format!("无法为“{}”生成事项编号：{}", n.name, e.public_message()),
            )
        })?;
    }
    let windows: Vec<String> =
        sqlx::query_scalar("select code from windows where center_id = $1 order by code")
            .bind(target.id)
            .fetch_all(app.db.pool())
            .await?;
    let copies: Vec<MatterInput> = nodes
        .iter()
        .map(|m| copy_of(m, &target, &source, &windows))
        .collect();
    // jieba before the write lock, as an import does.
    let cuts = Cuts::of(
        copies
            .iter()
            .flat_map(|m| [m.name.as_str(), m.department.as_str()]),
    );
    let actor = Actor::from(user);
    let now = app.clock.now_micros();
    let (target, source) = (&target, &source);
    app.db
        .transaction(|mut tx| {
            Box::pin(async move {
                let mut report = AdoptReport {
                    template: source.code.clone(),
                    ..Default::default()
                };
                for c in &copies {
                    match queries::owner(&mut tx, &c.code).await? {
                        Some(o) if o.center_id.get() == target.id => {
                            report.kept += 1;
                            continue;
                        }
                        Some(o) => {
                            return Err(AppError::Conflict(format!(
                                "事项编号“{}”已被中心“{}”使用，未复制任何事项",
                                c.code, o.center_code
                            )));
                        }
                        None => {}
                    }
                    if store::save_with(&mut tx, &actor, c, "adopt", now, &cuts).await?
                        == Saved::Created
                    {
                        report.created += 1;
                        if c.node == "matter" && c.windows.is_empty() {
                            report.without_window += 1;
                        }
                    }
                }
                if report.created > 0 {
                    audit::record(
                        &mut tx,
                        &actor,
                        "adopt",
                        "catalog",
                        &target.code,
                        Some(target.id),
                        None,
                        Some(json!({"template": source.code, "created": report.created,
                                    "kept": report.kept})),
                        now,
                    )
                    .await?;
                }
                Ok(report)
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_coded_after_the_township_and_the_template_code() {
        assert_eq!(copy_code("GX-WMD", "GXML-001"), "GX-WMD.GXML-001");
        let long = "X".repeat(60);
        let c = copy_code("GX-WMD", &long);
        assert!(c.len() <= 64 && c.starts_with("GX-WMD."), "{c}");
        assert_eq!(c, copy_code("GX-WMD", &long));
        assert!(parse_code(&c).is_ok());
    }
}
