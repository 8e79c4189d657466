//! Placeholder number helpers (replaced by the exact ones).
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    std::str::from_utf8(s).ok()?.parse().ok()
}
pub fn write_double(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(format!("{v}").as_bytes());
}
