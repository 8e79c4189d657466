//! LATENCY GRAPH's text (Redis's latencyCommandGenSparkeline over sparkline.c): a header with the event's
//! high, low and all-time high, a rule of 80 dashes, then a 4-row filled sparkline of the samples, oldest
//! first, 80 columns at most per block, each sample labelled vertically with how long ago it was (`5s`, `3m`,
//! `2h`, `1d`). The rendering follows sparkline.c's arithmetic exactly, so the picture is Redis's.

use std::fmt::Write as _;

use crate::state::latency_monitor::EventHistory;

const COLUMNS: usize = 80;
const ROWS: usize = 4;
/// The fill characters from low to high; a level above them is drawn as `|`.
const FILL: &[u8] = b"_o#";
/// Blank rows between the graph and the labels.
const LABEL_MARGIN_TOP: usize = 1;

/// The graph of `event`'s samples at `now_s`.
pub fn render(event: &str, history: &EventHistory, now_s: i64) -> String {
    let samples: Vec<(f64, String)> =
        history.samples.iter().map(|&(time_s, ms)| (ms as f64, ago_label(now_s - time_s))).collect();
    let high = history.samples.iter().map(|&(_, ms)| ms).max().unwrap_or(0);
    let low = history.samples.iter().map(|&(_, ms)| ms).min().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(out, "{event} - high {high} ms, low {low} ms (all time high {} ms)", history.max_ms);
    out.push_str(&"-".repeat(COLUMNS));
    out.push('\n');
    let (min, max) = bounds(&samples);
    for (block, chunk) in samples.chunks(COLUMNS).enumerate() {
        if block != 0 {
            out.push('\n');
        }
        render_range(&mut out, chunk, min, max);
    }
    out
}

/// The label of a sample `elapsed_s` seconds old.
fn ago_label(elapsed_s: i64) -> String {
    match elapsed_s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 3600 * 24 => format!("{}h", s / 3600),
        s => format!("{}d", s / (3600 * 24)),
    }
}

/// The sequence's min and max as sparkline.c tracks them (a new value is checked against the max only when
/// it is not below the min).
fn bounds(samples: &[(f64, String)]) -> (f64, f64) {
    let Some(&(first, _)) = samples.first() else { return (0.0, 0.0) };
    samples.iter().skip(1).fold((first, first), |(min, max), &(value, _)| {
        if value < min {
            (value, max)
        } else if value > max {
            (min, value)
        } else {
            (min, max)
        }
    })
}

/// One block of at most `COLUMNS` samples: the graph rows, a margin row, then the label rows.
fn render_range(out: &mut String, samples: &[(f64, String)], min: f64, max: f64) {
    let relmax = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = (FILL.len() * ROWS) as i64;
    let mut row = 0;
    loop {
        let mut chars = vec![b' '; samples.len()];
        let mut more = false;
        for (column, (value, label)) in samples.iter().enumerate() {
            // sparkline.c: (int)(relval * steps) / relmax, truncated again when stored in an int.
            let step = (((value - min) * steps as f64) as i64 as f64 / relmax) as i64;
            let step = step.clamp(0, steps - 1);
            if row < ROWS {
                more = true;
                let index = step - ((ROWS - row - 1) * FILL.len()) as i64;
                if (0..FILL.len() as i64).contains(&index) {
                    chars[column] = FILL[index as usize];
                } else if index >= FILL.len() as i64 {
                    chars[column] = b'|';
                }
            } else {
                if row - ROWS < LABEL_MARGIN_TOP {
                    more = true;
                    break;
                }
                let label_row = row - ROWS - LABEL_MARGIN_TOP;
                if let Some(&byte) = label.as_bytes().get(label_row) {
                    more = true;
                    chars[column] = byte;
                }
            }
        }
        if !more {
            return;
        }
        row += 1;
        out.push_str(&String::from_utf8_lossy(&chars));
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Redis 7.0.15's LATENCY GRAPH for these samples, taken at the same time.
    #[test]
    fn draws_redis_sparkline() {
        let mut history = EventHistory::default();
        for (time_s, ms) in [(1000, 5), (1001, 40), (1002, 20), (1003, 62), (1005, 11)] {
            history.samples.push_back((time_s, ms));
        }
        history.max_ms = 62;
        let want = "command - high 62 ms, low 5 ms (all time high 62 ms)\n".to_string()
            + &"-".repeat(80)
            + "\n   # \n o | \n |_| \n_|||o\n     \n65431\nsssss\n";
        assert_eq!(render("command", &history, 1006), want);
        assert_eq!(
            (ago_label(59), ago_label(61), ago_label(7200), ago_label(200_000)),
            ("59s".into(), "1m".into(), "2h".into(), "2d".into())
        );
    }
}
