//! The lesson text: markdown to styled lines through `tui-markdown`, with a
//! style sheet that drops colours under `NO_COLOR`.
//!
//! Headings show without their `#` marks. Code blocks are laid out here
//! rather than by `tui-markdown`: a code line or an ASCII diagram wrapped
//! at the pane's edge turns into nonsense, so each line is clipped at the
//! edge with a `→` (and a `←` when moved sideways), never wrapped, and the
//! fences are not shown (a language other than `text` is named above the
//! block).

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Paragraph, Wrap};
use tui_markdown::{Options, StyleSheet};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::theme::Theme;

/// Styles for the lesson text, in colour or in monochrome.
#[derive(Debug, Clone, Copy)]
struct ReadmeStyle {
    color: bool,
}

impl ReadmeStyle {
    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }
}

/// What `tui-markdown` writes as a code fence: a character no lesson uses,
/// so fence lines can be found and replaced.
const FENCE: &str = "\u{E000}";

impl StyleSheet for ReadmeStyle {
    fn heading_marker(&self, _level: u8) -> &'static str {
        ""
    }

    fn code_block_fence(&self) -> &'static str {
        FENCE
    }

    fn heading(&self, level: u8) -> Style {
        let style = self.fg(Color::Cyan).add_modifier(Modifier::BOLD);
        if level == 1 {
            style.add_modifier(Modifier::UNDERLINED)
        } else {
            style
        }
    }

    fn code(&self) -> Style {
        self.fg(Color::Yellow)
    }

    fn link(&self) -> Style {
        self.fg(Color::Blue).add_modifier(Modifier::UNDERLINED)
    }

    fn blockquote(&self) -> Style {
        self.fg(Color::Green)
    }

    fn metadata_block(&self) -> Style {
        self.fg(Color::Yellow)
    }

    fn math_inline(&self) -> Style {
        self.fg(Color::Magenta)
    }

    fn math_display(&self) -> Style {
        self.fg(Color::Magenta)
    }

    fn alert(&self, _kind: tui_markdown::AlertKind) -> Style {
        self.fg(Color::Yellow)
    }

    fn table_header(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    fn table_border(&self) -> Style {
        self.fg(Color::DarkGray)
    }

    fn list_marker(&self) -> Style {
        self.fg(Color::LightBlue)
    }
}

/// The lesson text laid out for a pane.
#[derive(Debug, Clone)]
pub struct Laid {
    /// The styled lines (prose still wraps when drawn; code lines fit).
    pub text: Text<'static>,
    /// The widest code line, in columns: how far ← → can move the code.
    pub code_width: usize,
}

/// The lesson text laid out for a pane `width` columns wide, its code
/// blocks moved `shift` columns left (tables are wrapped to the width;
/// prose is wrapped when drawn).
#[must_use]
pub fn readme_text(readme: &'static str, width: u16, shift: u16, theme: Theme) -> Laid {
    let style = ReadmeStyle { color: theme.color };
    let options = Options::new(style).table_width(width);
    let raw = tui_markdown::from_str_with_options(readme, &options);
    let mut lines = Vec::with_capacity(raw.lines.len());
    let mut in_code = false;
    let mut code_width = 0;
    for line in raw.lines {
        let content: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        if let Some(at) = content.find(FENCE) {
            if !in_code {
                let lang = content[at + FENCE.len()..].trim();
                if !lang.is_empty() && lang != "text" {
                    let label = format!("{}{lang}", &content[..at]);
                    lines.push(Line::styled(
                        label,
                        style.fg(Color::DarkGray).add_modifier(Modifier::ITALIC),
                    ));
                }
            }
            in_code = !in_code;
            continue;
        }
        if in_code {
            code_width = code_width.max(content.width());
            let clipped = clip_code(&content, usize::from(width), usize::from(shift));
            lines.push(Line::from(Span::styled(clipped, style.code())));
        } else {
            lines.push(line);
        }
    }
    Laid {
        text: Text::from(lines),
        code_width,
    }
}

/// A code line moved `shift` columns left and clipped to `width`: `←` in
/// the first column when something is hidden on the left, `→` in the last
/// when something is hidden on the right.
#[must_use]
pub fn clip_code(line: &str, width: usize, shift: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let mut skipped = 0;
    let mut chars = line.chars().peekable();
    while skipped < shift {
        match chars.next() {
            Some(c) => skipped += c.width().unwrap_or(0),
            None => break,
        }
    }
    let rest: String = chars.collect();
    let cut_left = shift > 0 && !line.trim().is_empty();
    let mut out = String::new();
    let mut used = 0;
    if cut_left {
        out.push('←');
        used = 1;
    }
    // The `←` takes the place of the first column left.
    let shown: String = rest.chars().skip(usize::from(cut_left)).collect();
    let fits = used + shown.width() <= width;
    let room = if fits { width } else { width.saturating_sub(1) };
    for c in shown.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            break;
        }
        out.push(c);
        used += w;
    }
    if !fits && used < width {
        out.push('→');
    }
    out
}

/// The lesson text as a paragraph that wraps at the pane's edge.
#[must_use]
pub fn readme_paragraph(text: &Text<'static>) -> Paragraph<'static> {
    Paragraph::new(text.clone()).wrap(Wrap { trim: false })
}

/// How many rows the wrapped text takes in a pane `width` columns wide.
#[must_use]
pub fn wrapped_rows(text: &Text<'static>, width: u16) -> usize {
    readme_paragraph(text).line_count(width)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_lines_are_clipped_with_a_mark_never_wrapped() {
        assert_eq!(clip_code("let x = 1;", 20, 0), "let x = 1;");
        assert_eq!(
            clip_code("generate --numbers--> square", 12, 0),
            "generate --→"
        );
        assert_eq!(
            clip_code("generate --numbers--> square", 12, 8),
            "←--numbers-→"
        );
        assert_eq!(clip_code("short", 12, 8), "←");
        assert_eq!(clip_code("", 12, 8), "");
    }

    #[test]
    fn headings_lose_their_marks_and_fences_are_gone() {
        let laid = readme_text(
            "# Title\n\nProse.\n\n```text\na --> b\n```\n\n```go\nx := 1\n```\n",
            40,
            0,
            Theme::default(),
        );
        let rows: Vec<String> = laid.text.lines.iter().map(ToString::to_string).collect();
        assert_eq!(rows[0], "Title");
        assert!(
            rows.iter()
                .all(|r| !r.contains("```") && !r.contains(FENCE)),
            "{rows:?}"
        );
        assert!(rows.iter().any(|r| r == "a --> b"), "{rows:?}");
        assert!(
            rows.iter().any(|r| r == "go"),
            "a language is named: {rows:?}"
        );
        assert_eq!(laid.code_width, 7);
    }
}
