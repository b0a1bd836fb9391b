//! 收费 (seed 003 §(四)1(4)): after the approval the window computes the fee from the matter's
//! 收费标准 and tells the applicant; fees are paid online (收缴分离), and cash is taken only
//! from an elderly applicant. The result is issued once the fee is paid. The applicant hears
//! of the fee, the payment and the completion by SMS through the outbox.

use super::*;

/// A case's fee as stored.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow, ToSchema)]
pub struct Fee {
    /// In fen (分).
    pub amount_fen: i64,
    /// Where the amount comes from: the matter's 收费标准, or the approver's figure.
    pub basis: String,
    /// `due` or `paid`.
    pub state: String,
    /// `online` or `cash` once paid.
    pub method: String,
    /// The payment's receipt (缴款凭证号).
    pub receipt: String,
}

impl Fee {
    pub fn paid(&self) -> bool {
        self.state == "paid"
    }
    /// "20.00 元".
    pub fn amount_text(&self) -> String {
        yuan(self.amount_fen)
    }
}

/// "20.00 元" for 2000 fen.
pub fn yuan(fen: i64) -> String {
    format!("{}.{:02} 元", fen / 100, fen % 100)
}

/// What a matter's 收费标准 says a case costs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeeRule {
    /// 不收费 (or no standard given).
    Free,
    /// A fixed amount in fen, read from the text (e.g. "工本费 20 元").
    Fixed(i64),
    /// A standard that names no amount: the approver states it.
    Stated,
}

/// Reads a matter's 收费标准: empty, 不收费, 免费 and 非行政收费 cost nothing at the window; the
/// first amount in 元 is the fee; anything else needs the approver's figure.
pub fn fee_rule(text: &str) -> FeeRule {
    let t = text.trim();
    if t.is_empty()
        || ["不收费", "免费", "免收", "非行政收费", "无收费"]
            .iter()
            .any(|w| t.contains(w))
    {
        return FeeRule::Free;
    }
    let chars: Vec<char> = t.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let number: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j] == ' ' {
                j += 1;
            }
            if j < chars.len()
                && chars[j] == '元'
                && let Some(fen) = parse_fen(&number)
            {
                return FeeRule::Fixed(fen);
            }
        } else {
            i += 1;
        }
    }
    FeeRule::Stated
}

/// "20", "20.5", "20.50" in 元 as fen.
pub fn parse_fen(number: &str) -> Option<i64> {
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || frac.len() > 2 || frac.contains('.') || whole.len() > 7 {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    Some(whole * 100 + frac)
}

/// The most a fee may be (the `case_fees.amount_fen` check).
pub const MAX_FEE_FEN: i64 = 100_000_000;

/// The fee of an approved case: the approver's figure where given (0 for none), else the
/// matter's rule. `None`: nothing to pay.
pub(super) async fn fee_of(
    conn: &mut Conn,
    case: &Case,
    stated: Option<i64>,
) -> AppResult<Option<(i64, String)>> {
    if let Some(fen) = stated {
        if !(0..=MAX_FEE_FEN).contains(&fen) {
            return Err(AppError::invalid_field(
                "fee_fen",
                "应收金额应在 0 到 100 万元之间（以分计）",
            ));
        }
        return Ok((fen > 0).then(|| (fen, "审批人员按收费标准核定".to_owned())));
    }
    let (fees, basis): (String, String) =
        sqlx::query_as("select fees, fee_basis from matters where id = $1")
            .bind(case.matter_id)
            .fetch_one(&mut *conn)
            .await?;
    match fee_rule(&fees) {
        FeeRule::Free => Ok(None),
        FeeRule::Fixed(fen) => {
            let basis = if basis.trim().is_empty() {
                fees
            } else {
                format!("{fees}（{}）", basis.trim())
            };
            Ok(Some((fen, basis)))
        }
        FeeRule::Stated => Err(AppError::invalid_field(
            "fee_fen",
            format!("该事项的收费标准为“{fees}”，未写明金额，请填写核定的应收金额"),
        )),
    }
}

/// Writes the fee of an approved case (replacing a proposal's).
pub(super) async fn charge(
    tx: &mut Tx,
    case: CaseId,
    fee: Option<&(i64, String)>,
    now: i64,
) -> AppResult<()> {
    sqlx::query("delete from case_fees where case_id = $1 and state = 'due'")
        .bind(case)
        .execute(&mut **tx)
        .await?;
    if let Some((fen, basis)) = fee {
        sqlx::query(
            "insert into case_fees (case_id, amount_fen, basis, state, created_at) values ($1, $2, $3, 'due', $4)",
        )
        .bind(case)
        .bind(fen)
        .bind(basis)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A case's fee, if it has one.
pub async fn fee(conn: &mut Conn, case: CaseId) -> AppResult<Option<Fee>> {
    Ok(sqlx::query_as(
        "select amount_fen, basis, state, method, receipt from case_fees where case_id = $1",
    )
    .bind(case)
    .fetch_optional(&mut *conn)
    .await?)
}

/// The age from which cash is taken: 老年人 are sixty and over (《老年人权益保障法》第二条).
pub const ELDERLY_AGE: i16 = 60;

/// The applicant is a person aged [`ELDERLY_AGE`] or over on `today`, by the birth date in the
/// ID-card number.
pub fn elderly(case: &Case, today: Date) -> bool {
    if case.applicant_kind != ApplicantKind::Person || case.applicant_no.len() != 18 {
        return false;
    }
    let birth = &case.applicant_no[6..14];
    let parsed = (|| {
        let y: i16 = birth[0..4].parse().ok()?;
        let m: i8 = birth[4..6].parse().ok()?;
        let d: i8 = birth[6..8].parse().ok()?;
        Date::new(y, m, d).ok()
    })();
    let Some(birth) = parsed else {
        return false;
    };
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age >= ELDERLY_AGE
}

/// A payment recorded.
#[derive(Clone, Debug, Default, Deserialize, serde::Serialize, ToSchema)]
#[serde(default)]
pub struct PayInput {
    /// `online` (the payment platform's receipt) or `cash` (elderly applicants only).
    pub method: String,
    /// The online payment's receipt number (电子缴款凭证号); for cash, the bill's number.
    pub receipt: String,
}

/// Records the fee as paid: online with its receipt, or in cash from an elderly applicant.
pub async fn pay(app: &App, user: &CurrentUser, number: &str, input: &PayInput) -> Outcome {
    let method = input.method.trim().to_owned();
    let receipt = input.receipt.trim().to_owned();
    if method != "online" && method != "cash" {
        return Err(AppError::invalid_field("method", "请选择网上支付或现金"));
    }
    if receipt.is_empty()
        || receipt.len() > 40
        || !receipt
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err(AppError::invalid_field(
            "receipt",
            "请填写缴款凭证号或票据号（字母、数字和“-”）",
        ));
    }
    let today = crate::timetable::today(app);
    on_case(app, user, number, |mut tx, case, now| {
        Box::pin(async move {
            allow(
                policy::can_take_in(user, case.center_id.get()),
                "只有本中心的窗口工作人员可以登记缴费",
            )?;
            if case.state != CaseState::Decided {
                return Err(state_refusal(&case, "办结后才能缴费"));
            }
            if method == "cash" && !elderly(&case, today) {
                return Err(AppError::invalid_field(
                    "method",
                    "窗口不收取现金，请网上支付（老年人可以现金缴纳）",
                ));
            }
            let done = sqlx::query(
                "update case_fees set state = 'paid', method = $1, receipt = $2, paid_at = $3, recorded_by = $4 \
                 where case_id = $5 and state = 'due'",
            )
            .bind(&method)
            .bind(&receipt)
            .bind(now)
            .bind(user.id)
            .bind(case.id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            let Some(fee) = fee(&mut tx, case.id).await? else {
                return Err(AppError::InvalidState("本件无需缴费".into()));
            };
            changed(done, "本件费用已缴纳")?;
            let how = if method == "cash" { "现金" } else { "网上支付" };
            let text = format!("缴费 {}（{how}，凭证 {receipt}）", fee.amount_text());
            super::super::messages::paid(&mut tx, &case, &fee, now).await?;
            noted(&mut tx, &case, user, "pay", &text, now).await
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fee_standard_reads_as_free_fixed_or_stated() {
        assert_eq!(fee_rule(""), FeeRule::Free);
        assert_eq!(fee_rule("不收费"), FeeRule::Free);
        assert_eq!(
            fee_rule("按当年城乡居民医疗保险个人缴费标准缴纳保险费（非行政收费）"),
            FeeRule::Free
        );
        assert_eq!(
            fee_rule("首次申领居民身份证工本费 20 元；邮寄费用按邮政标准由申请人承担"),
            FeeRule::Fixed(2000)
        );
        assert_eq!(fee_rule("每件 12.5元"), FeeRule::Fixed(1250));
        assert_eq!(fee_rule("按面积计收，每平方米 3 角"), FeeRule::Stated);
        assert_eq!(fee_rule("按国家规定标准收取"), FeeRule::Stated);
        assert_eq!(yuan(2000), "20.00 元");
        assert_eq!(yuan(1205), "12.05 元");
    }
}
