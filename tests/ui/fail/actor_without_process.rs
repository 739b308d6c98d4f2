use streamlib::prelude::*;

#[actor]
pub struct Doubler {
    #[input]
    pub value: Input<i64>,
    #[output]
    pub doubled: Output<i64>,
}

fn main() {}
