//! Pure signals core (see DESIGN.md §1). Filled in by the signals-engine work.
