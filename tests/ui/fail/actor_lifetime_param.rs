use streamlib::prelude::*;

#[actor]
pub struct Labeler<'a> {
    #[output]
    pub label: Output<String>,
    pub prefix: &'a str,
}

fn main() {}
