//! Template JSON + image bytes + code through the whole pipeline: must never panic.
//! Input layout is documented on `promostack_render::fuzzing::fuzz_template_and_image`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _rendered = promostack_render::fuzzing::fuzz_template_and_image(data);
});
