//! The lesson catalog: texts as a reader sees them, the shared note on lab
//! channels, and which knobs hide which trap.

use chanlab::lessons::{LAB_CHANNELS, VariantKind, catalog, reader_text};

#[test]
fn smoke() {
    let lessons = catalog();
    assert_eq!(lessons.len(), 10);
    for (i, lesson) in lessons.iter().enumerate() {
        assert_eq!(usize::from(lesson.number), i + 1);
        assert_eq!(lesson.correct().kind, VariantKind::Correct);
    }
}

#[test]
fn every_lesson_text_ends_with_the_one_note_on_lab_channels() {
    for lesson in catalog() {
        assert!(
            lesson.readme.trim_end().ends_with(LAB_CHANNELS.trim_end()),
            "{}",
            lesson.label()
        );
        // The note lives in one place: no lesson README repeats it.
        let own = &lesson.readme[..lesson.readme.len() - LAB_CHANNELS.len()];
        let words = own.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            !words.contains("In chanlab the channels come from the lab"),
            "{} still carries its own copy of the note",
            lesson.label()
        );
    }
}

#[test]
fn the_reader_sees_rust_blocks_without_rustdocs_hidden_lines() {
    let md = "Text # not code\n\n```rust,no_run\n# use chanlab::lab::Lab;\n#\nlet x = 1;\n## literal\n    # indented hidden\n```\n\n```go\n# kept in Go\n```\n\n```text\n# kept\n```\n";
    let shown = reader_text(md);
    assert_eq!(
        shown,
        "Text # not code\n\n```rust\nlet x = 1;\n# literal\n```\n\n```go\n# kept in Go\n```\n\n```text\n# kept\n```\n"
    );
}

#[test]
fn lesson_texts_show_no_hidden_doctest_lines_or_fence_flags() {
    for lesson in catalog() {
        let text = lesson.text();
        assert!(
            !text.contains("```rust,"),
            "{}: a fence flag shows",
            lesson.label()
        );
        let mut in_rust = false;
        for line in text.lines() {
            let t = line.trim_start();
            if t.starts_with("```") {
                in_rust = !in_rust && t == "```rust";
                continue;
            }
            assert!(
                !(in_rust && (t == "#" || t.starts_with("# "))),
                "{}: a hidden line shows: {line}",
                lesson.label()
            );
        }
    }
}

#[test]
fn the_default_knobs_never_hide_a_trap_and_fixes_are_never_hidden() {
    for lesson in catalog() {
        for v in lesson.variants {
            let hidden = lesson.hidden(v, &lesson.defaults);
            assert!(
                hidden.is_none(),
                "{} {}: the defaults must show every trap, got {hidden:?}",
                lesson.label(),
                v.name
            );
        }
    }
}
