//! QR codes as inline SVG, for pages that hand a phone an address (a booking, a ticket).

/// `text` as a QR code in inline SVG, at least 180×180 with its quiet zone; empty where `text`
/// is too long for a QR code.
pub fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}
