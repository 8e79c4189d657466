//! strerror() wording for I/O errors: Redis prints `strerror(errno)` in its messages, which Rust's
//! `io::Error` text extends with " (os error N)".

/// The C library's text for `e`: Rust's message without its " (os error N)" suffix.
pub fn strerror(e: &std::io::Error) -> String {
    let text = match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None if e.kind() == std::io::ErrorKind::NotFound => "No such file or directory".to_string(),
        None => e.to_string(),
    };
    text.split(" (os error").next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_drops_the_os_error_suffix() {
        assert_eq!(strerror(&std::io::Error::from_raw_os_error(98)), "Address already in use");
        assert_eq!(strerror(&std::io::Error::from(std::io::ErrorKind::NotFound)), "No such file or directory");
    }
}
