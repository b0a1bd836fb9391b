//! The audit trail as people read it: actions and records in Chinese, and a change as the
//! fields it changed (名称：旧 → 新) rather than two blobs of JSON.

use serde_json::Value;

/// The Chinese verb of an audited action; the stored word where none is known.
pub fn action_label(action: &str) -> &str {
    match action {
        "create" => "新建",
        "update" => "修改",
        "delete" => "删除",
        "assign" => "安排",
        "remove" => "撤下",
        "revoke" => "吊销",
        "passwd" => "重设密码",
        "request" => "申请",
        "import" => "导入",
        "adopt" => "采用模板目录",
        "replace" => "替换",
        "book" => "预约",
        "confirm" => "同意",
        "cancel" => "取消",
        "reschedule" => "改约",
        "check_in" => "签到",
        "mark_no_show" => "记为爽约",
        "propose_refusal" => "提出不同意",
        "approve_refusal" => "批准不同意",
        "deny_refusal" => "驳回不同意",
        "arrange" => "安排上门",
        "done" | "complete" => "办结",
        "receive" => "收件",
        "accept" => "受理",
        "refuse" => "不予受理",
        "notify_missing" => "一次性告知",
        "decide" => "作出决定",
        "sign" => "签批",
        "suspend" => "暂停计时",
        "resume" => "恢复计时",
        "extend" => "申请延长",
        "grant" => "批准延长",
        "issue" => "出件",
        "supply" => "补齐材料",
        "opinion" => "领导意见",
        "lock" => "锁定登录",
        other => other,
    }
}

/// The Chinese name of an audited kind of record; the stored word where none is known.
pub fn entity_label(entity: &str) -> &str {
    match entity {
        "center" => "中心",
        "zone" => "专区",
        "window" => "窗口",
        "staff" | "user" => "人员",
        "window_post" => "AB 岗",
        "api_token" => "API 令牌",
        "matter" => "事项",
        "matter_type" => "事项类型",
        "search_synonyms" => "搜索同义词",
        "catalog" => "事项目录",
        "holiday_year" => "节假日安排",
        "center_hours" => "办公时间",
        "queue_settings" => "叫号规则",
        "booking_settings" => "预约规则",
        "booking_matter" => "事项预约规则",
        "booking_capacity" => "窗口预约容量",
        "appointment" => "预约",
        "home_visit" => "上门服务",
        "case" => "办件",
        "sign_in" => "登录",
        other => other,
    }
}

/// The Chinese name of a field; the stored key where none is known.
pub fn field_label(key: &str) -> &str {
    match key {
        "name" => "名称",
        "code" => "编码",
        "sort_order" => "排序",
        "kind" => "类型",
        "level" => "层级",
        "parent" => "上级",
        "address" => "地址",
        "phone" => "电话",
        "active" => "启用",
        "login" => "登录名",
        "display_name" => "姓名",
        "roles" => "角色",
        "centers" => "所属中心",
        "post" => "岗位",
        "user" => "人员",
        "zone" => "专区",
        "zones" => "专区",
        "window" => "窗口",
        "state" => "状态",
        "title" => "标题",
        "url" => "链接",
        "rule" => "叫号规则",
        "periods" => "预约时段",
        "answer" => "答复方式",
        "days_ahead" => "可提前预约天数",
        "max_per_person" => "每证件上限",
        "max_per_phone" => "每手机号上限",
        "grace_minutes" => "迟到宽限（分钟）",
        "early_minutes" => "提前签到（分钟）",
        "no_show_limit" => "爽约上限",
        "booking_capacity" => "每小时预约容量",
        "ticket_prefix" => "号码前缀",
        "acceptance_limit_minutes" => "受理时限（分钟）",
        "joint_property_tax" => "不动产和税务联办窗口",
        "reason" => "理由",
        "department" => "部门",
        "type_code" => "事项类型",
        "center" => "中心",
        "wanted_date" => "希望日期",
        "date" => "日期",
        "time" => "时间",
        "place" => "地点",
        "materials" => "材料",
        "staff" => "工作人员",
        "consult_phone" => "咨询电话",
        "complaint_phone" => "投诉电话",
        "conditions" => "受理条件",
        "legal_basis" => "设定依据",
        "legal_limit" => "法定时限",
        "promised_limit" => "承诺时限",
        "fees" => "收费",
        "process" => "办理流程",
        "template" => "模板中心",
        "created" => "复制",
        "kept" => "已有",
        "password" => "密码",
        "season" => "作息季节",
        "summer" => "夏季作息",
        "winter" => "冬季作息",
        "client" => "来源地址",
        "scope" => "范围",
        "failures" => "连续失败次数",
        "locked_until" => "锁定至",
        "page" => "页码",
        "per_page" => "每页条数",
        other => other,
    }
}

/// A value as one short line.
fn short(v: &Value) -> String {
    let text = match v {
        Value::Null => "（空）".to_owned(),
        Value::Bool(true) => "是".to_owned(),
        Value::Bool(false) => "否".to_owned(),
        Value::String(s) if s.is_empty() => "（空）".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        out.push('…');
    }
    out
}

fn parse(json: Option<&str>) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_str::<Value>(json?).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// What an entry changed, one line per field: `名称：旧 → 新` for a change, `名称：值` for a
/// new or removed record (at most `max` lines, then `…`).
pub fn changes(before: Option<&str>, after: Option<&str>, max: usize) -> Vec<String> {
    let (b, a) = (parse(before), parse(after));
    let mut lines = Vec::new();
    match (&b, &a) {
        (Some(b), Some(a)) => {
            let mut seen = std::collections::HashSet::new();
            for k in a.keys().chain(b.keys()) {
                if !seen.insert(k) {
                    continue;
                }
                let (old, new) = (
                    b.get(k).unwrap_or(&Value::Null),
                    a.get(k).unwrap_or(&Value::Null),
                );
                if old != new {
                    lines.push(format!(
                        "{}：{} → {}",
                        field_label(k),
                        short(old),
                        short(new)
                    ));
                }
            }
        }
        (None, Some(m)) | (Some(m), None) => {
            for (k, v) in m {
                lines.push(format!("{}：{}", field_label(k), short(v)));
            }
        }
        (None, None) => {}
    }
    if lines.len() > max {
        lines.truncate(max);
        lines.push("…".into());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_told_field_by_field_in_chinese() {
        let c = changes(
            Some(r#"{"name":"综合受理1","sort_order":1,"active":true}"#),
            Some(r#"{"name":"通用综合受理1","sort_order":1,"active":false}"#),
            8,
        );
        assert_eq!(c, vec!["名称：综合受理1 → 通用综合受理1", "启用：是 → 否"]);
        let c = changes(None, Some(r#"{"code":"BDC","name":"不动产登记"}"#), 8);
        assert_eq!(c, vec!["编码：BDC", "名称：不动产登记"]);
        let long = format!(r#"{{"notes":"{}"}}"#, "很".repeat(100));
        let c = changes(None, Some(&long), 8);
        assert_eq!(c[0].chars().count(), "notes：".chars().count() + 61);
        assert!(changes(Some("not json"), None, 8).is_empty());
        assert_eq!(action_label("create"), "新建");
        assert_eq!(entity_label("zone"), "专区");
        assert_eq!(action_label("something_new"), "something_new");
    }
}
