//! Pure coupon renderer (see DESIGN.md §1). Filled in by the coupon-images work.
