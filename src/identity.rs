//! Who an applicant is: the resident ID-card number (公民身份号码, GB 11643) and the unified
//! social credit code (统一社会信用代码, GB 32100), both with their check character, and the
//! masks the public pages show (张*明, 3607**********1234).

use jiff::civil::Date;

/// GB 11643 weights of the first 17 digits.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder mod 11.
const ID_CHECK: &[u8; 11] = b"10X98765432";

/// GB 32100 characters (no I, O, S, V, Z) and weights.
const CREDIT_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const CREDIT_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// The check character of the first 17 digits of an ID-card number.
pub fn id_card_check(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = bytes
        .iter()
        .zip(ID_WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    Some(ID_CHECK[(sum % 11) as usize] as char)
}

/// Checks an 18-character ID-card number: digits, a real birth date, and the check character
/// (a lowercase x is read as X). Returns it normalised, or a Chinese reason.
pub fn check_id_card(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim().to_ascii_uppercase();
    if s.len() != 18 || !s.is_ascii() {
        return Err("身份证号码应为 18 位");
    }
    let (first17, last) = s.split_at(17);
    let Some(check) = id_card_check(first17) else {
        return Err("身份证号码前 17 位应为数字");
    };
    let birth = (
        first17[6..10].parse::<i16>(),
        first17[10..12].parse::<i8>(),
        first17[12..14].parse::<i8>(),
    );
    let (Ok(y), Ok(m), Ok(d)) = birth else {
        return Err("身份证号码中的出生日期无效");
    };
    if !(1900..=2100).contains(&y) || Date::new(y, m, d).is_err() {
        return Err("身份证号码中的出生日期无效");
    }
    if !last.starts_with(check) {
        return Err("身份证号码校验位不正确，请核对");
    }
    Ok(s)
}

/// The check character of the first 17 characters of a credit code.
pub fn credit_code_check(first17: &str) -> Option<char> {
    let bytes = first17.as_bytes();
    if bytes.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (b, w) in bytes.iter().zip(CREDIT_WEIGHTS) {
        let v = CREDIT_CHARS.iter().position(|c| c == b)? as u32;
        sum += v * w;
    }
    let check = (31 - sum % 31) % 31;
    Some(CREDIT_CHARS[check as usize] as char)
}

/// Checks an 18-character unified social credit code and its check character. Returns it in
/// capitals, or a Chinese reason.
pub fn check_credit_code(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim().to_ascii_uppercase();
    if s.len() != 18 || !s.is_ascii() {
        return Err("统一社会信用代码应为 18 位");
    }
    let (first17, last) = s.split_at(17);
    let Some(check) = credit_code_check(first17) else {
        return Err("统一社会信用代码含有无效字符（不使用 I、O、S、V、Z）");
    };
    if !last.starts_with(check) {
        return Err("统一社会信用代码校验位不正确，请核对");
    }
    Ok(s)
}

/// A person's name as the public sees it: the first and last character, the rest starred
/// (张*明, 欧阳**锋); a two-character name keeps its first (李*).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => {
            let mut out = String::new();
            out.push(chars[0]);
            out.extend(std::iter::repeat_n('*', n - 2));
            out.push(chars[n - 1]);
            out
        }
    }
}

/// A number as the public sees it: the first four and last four characters, the rest starred
/// (3607**********1234).
pub fn mask_number(no: &str) -> String {
    let chars: Vec<char> = no.trim().chars().collect();
    let n = chars.len();
    if n <= 8 {
        return "*".repeat(n);
    }
    let mut out: String = chars[..4].iter().collect();
    out.extend(std::iter::repeat_n('*', n - 8));
    out.extend(&chars[n - 4..]);
    out
}

/// A phone number as staff without the case see it: 138****5678.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    let n = chars.len();
    if n < 7 {
        return "*".repeat(n);
    }
    let mut out: String = chars[..3].iter().collect();
    out.extend(std::iter::repeat_n('*', n - 7));
    out.extend(&chars[n - 4..]);
    out
}

/// An ID-card number made valid from a region, a birth date and a sequence (demo data and
/// tests: every number the project writes carries a correct check digit).
pub fn make_id_card(region: &str, birth: Date, seq: u16) -> String {
    let first17 = format!(
        "{region:0>6.6}{:04}{:02}{:02}{:03}",
        birth.year(),
        birth.month(),
        birth.day(),
        seq % 1000
    );
    let check = id_card_check(&first17).unwrap_or('0');
    format!("{first17}{check}")
}

/// A credit code made valid from its first 17 characters (demo data and tests).
pub fn make_credit_code(first17: &str) -> String {
    let check = credit_code_check(first17).unwrap_or('0');
    format!("{first17}{check}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn id_card_check_digits() {
        // The GB 11643 worked example: 11010519491231002X.
        assert_eq!(id_card_check("11010519491231002"), Some('X'));
        assert_eq!(
            check_id_card("11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        assert!(check_id_card("110105194912310021").is_err());
        assert!(check_id_card("110105194902300021").is_err(), "30 February");
        assert!(check_id_card("12345").is_err());
        let made = make_id_card("360730", date(1985, 3, 7), 42);
        assert_eq!(made.len(), 18);
        assert!(check_id_card(&made).is_ok());
    }

    #[test]
    fn credit_code_check_characters() {
        // A code published by a government site: 91350100M000100Y43.
        assert_eq!(credit_code_check("91350100M000100Y4"), Some('3'));
        assert!(check_credit_code("91350100M000100Y43").is_ok());
        assert!(check_credit_code("91350100M000100Y44").is_err());
        assert!(
            check_credit_code("91350100M0001O0Y43").is_err(),
            "O is not used"
        );
        let made = make_credit_code("92360730MA3XXXXX0");
        assert!(check_credit_code(&made).is_ok());
    }

    #[test]
    fn masks() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("李四"), "李*");
        assert_eq!(mask_name("欧阳春锋"), "欧**锋");
        assert_eq!(mask_number("360730198503070428"), "3607**********0428");
        assert_eq!(mask_phone("13800005678"), "138****5678");
    }
}
