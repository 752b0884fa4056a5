//! The lesson text: markdown to styled lines through `tui-markdown`, with a
//! style sheet that drops colours under `NO_COLOR`.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Text;
use ratatui::widgets::{Paragraph, Wrap};
use tui_markdown::{Options, StyleSheet};

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

impl StyleSheet for ReadmeStyle {
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

/// The lesson text laid out for a pane `width` columns wide (tables are
/// wrapped to it; prose is wrapped when drawn).
#[must_use]
pub fn readme_text(readme: &'static str, width: u16, theme: Theme) -> Text<'static> {
    let options = Options::new(ReadmeStyle { color: theme.color }).table_width(width);
    tui_markdown::from_str_with_options(readme, &options)
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
