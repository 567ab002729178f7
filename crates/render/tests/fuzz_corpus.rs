//! Runs the fuzz target's body (`fuzzing::fuzz_template_and_image`) on stable over a corpus of
//! valid, mutated and random inputs: whatever the bytes, the pipeline returns errors, never panics.
use promostack_render::fuzzing::fuzz_template_and_image;
use promostack_render::{OutputFormat, encode_pixmap};
use tiny_skia::{Color, Pixmap};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn input(json: &str, code: &[u8], image: &[u8]) -> Vec<u8> {
    let mut data = (json.len() as u16).to_le_bytes().to_vec();
    data.extend_from_slice(json.as_bytes());
    data.push(code.len() as u8);
    data.extend_from_slice(code);
    data.extend_from_slice(image);
    data
}

fn small_images() -> Vec<Vec<u8>> {
    let mut pixmap = Pixmap::new(96, 64).unwrap();
    pixmap.fill(Color::from_rgba8(200, 40, 90, 180));
    [OutputFormat::Png, OutputFormat::JPEG, OutputFormat::WebP]
        .into_iter()
        .map(|f| encode_pixmap(&pixmap, f).unwrap())
        .collect()
}

const TEMPLATES: &[&str] = &[
    r##"{"name":"T","style":{"maxLines":3,"strokeWidth":0.2},"variants":{"square":{"image":"a.png","text":{"x":2,"y":2,"width":90,"height":40},"logo":{"x":0,"y":44,"width":30,"height":20}}}}"##,
    r##"{"name":"T","style":{"align":"right","uppercase":false},"variants":{"a":{"image":"a.png","text":{"x":95,"y":63,"width":1,"height":1}},"b":{"image":"b.png","text":{"x":0,"y":0,"width":96,"height":64}}}}"##,
    r##"{"name":"T","variants":{"square":{"image":"a.png","text":{"x":4294967295,"y":4294967295,"width":4294967295,"height":4294967295}}}}"##,
];

#[test]
fn valid_inputs_render_and_mutations_never_panic() {
    let images = small_images();
    let codes: &[&[u8]] = &[
        b"SAVE20",
        b"\xF0\x9F\x8E\x89 gift",
        b"\xFF\xFE",
        b"",
        b"A\x00B",
        &[b'W'; 64],
        &[b'W'; 65],
    ];
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut valid_renders = 0;
    for json in TEMPLATES {
        for image in &images {
            for code in codes {
                let rendered = fuzz_template_and_image(&input(json, code, image));
                valid_renders += rendered;
            }
            // Truncations and bit flips of real images.
            for _ in 0..12 {
                let mut mutated = image.clone();
                match rng.below(3) {
                    0 => mutated.truncate(rng.below(image.len())),
                    1 => {
                        for _ in 0..1 + rng.below(8) {
                            let at = rng.below(mutated.len());
                            mutated[at] ^= 1 << rng.below(8);
                        }
                    }
                    _ => {
                        let at = rng.below(mutated.len());
                        mutated.splice(at..at, (0..rng.below(64)).map(|_| rng.next() as u8));
                    }
                }
                fuzz_template_and_image(&input(json, b"CODE", &mutated));
            }
        }
        // Mutated JSON.
        for _ in 0..40 {
            let mut bytes = json.as_bytes().to_vec();
            let at = rng.below(bytes.len());
            let alphabet = b"{}[]\",:0-9e.#aZ";
            bytes[at] = alphabet[rng.below(alphabet.len())];
            let mutated = String::from_utf8_lossy(&bytes).into_owned();
            fuzz_template_and_image(&input(&mutated, b"CODE", &images[0]));
        }
    }
    // Two templates × three formats × valid codes × image formats went all the way through
    // (the third template's box lies outside every image).
    assert!(
        valid_renders >= 2 * 3 * 3,
        "only {valid_renders} renders of valid inputs"
    );
    // Pure noise.
    for _ in 0..300 {
        let len = rng.below(600);
        let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        fuzz_template_and_image(&data);
    }
}
