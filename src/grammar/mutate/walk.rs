//! The plan tree as the mutator sees it: [`Walk`] visits every [`Slot`] of a plan, and
//! [`Choice`] and [`List`] let an edit re-choose an enum's variant or change a list.
//!
//! The impls for the plan types come from the shared listing in `shapes.rs`, which the
//! encoder expands too; a new plan variant missing there is a compile error.

use arbitrary::{Arbitrary, Unstructured};

use crate::grammar::encode::variant_bytes;
use crate::grammar::shapes::*;
use crate::grammar::{Mostly, SmallBytes, Step};

/// A place in a plan tree that an edit can change.
pub(super) enum Slot<'a> {
    /// Any enum: moved to a neighbouring variant.
    Choice(&'a mut dyn Choice),
    /// An edge-case string plan.
    String(&'a mut StringPlan),
    /// Free text.
    Bytes(&'a mut SmallBytes),
    /// One property's plan.
    Field(&'a mut FieldPlan),
    /// A request id plan.
    Id(&'a mut IdPlan),
    /// An injection payload.
    Payload(&'a mut PayloadPlan),
    /// A list of plans.
    List(&'a mut dyn List),
    /// The pick of a [`Mostly`]: the usual path or the alternative.
    Pick(&'a mut u8),
    /// A small number: an index, a table pick or a seed.
    Byte(&'a mut u8),
    /// A wider seed.
    Short(&'a mut u16),
    /// A flag.
    Flag(&'a mut bool),
}

/// Visiting every [`Slot`] of a plan tree, parents before children.
pub(super) trait Walk {
    fn walk(&mut self, visit: &mut dyn FnMut(Slot<'_>));
}

/// An enum whose variant can be re-chosen.
pub(super) trait Choice {
    /// The current variant's position in declaration order.
    fn index(&self) -> usize;
    /// The number of variants.
    fn count(&self) -> usize;
    /// Becomes variant `index`, its fields decoded from `rest`.
    fn choose(&mut self, index: usize, rest: &[u8]);
}

/// A list whose items can be dropped, copied or added.
pub(super) trait List {
    fn len(&self) -> usize;
    fn remove_at(&mut self, index: usize);
    fn duplicate(&mut self, index: usize);
    fn insert_fresh(&mut self, index: usize, bytes: &[u8]);
}

impl<T: Clone + for<'a> Arbitrary<'a>> List for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn remove_at(&mut self, index: usize) {
        self.remove(index);
    }

    fn duplicate(&mut self, index: usize) {
        let copy = self[index].clone();
        self.insert(index + 1, copy);
    }

    fn insert_fresh(&mut self, index: usize, bytes: &[u8]) {
        if let Ok(item) = T::arbitrary(&mut Unstructured::new(bytes)) {
            self.insert(index, item);
        }
    }
}

impl Walk for u8 {
    fn walk(&mut self, visit: &mut dyn FnMut(Slot<'_>)) {
        visit(Slot::Byte(self));
    }
}

impl Walk for u16 {
    fn walk(&mut self, visit: &mut dyn FnMut(Slot<'_>)) {
        visit(Slot::Short(self));
    }
}

impl Walk for bool {
    fn walk(&mut self, visit: &mut dyn FnMut(Slot<'_>)) {
        visit(Slot::Flag(self));
    }
}

impl Walk for SmallBytes {
    fn walk(&mut self, visit: &mut dyn FnMut(Slot<'_>)) {
        visit(Slot::Bytes(self));
    }
}

impl<T: Walk + Clone + for<'a> Arbitrary<'a>> Walk for Vec<T> {
    fn walk(&mut self, visit: &mut dyn FnMut(Slot<'_>)) {
        visit(Slot::List(self));
        for item in self {
            item.walk(visit);
        }
    }
}

impl<T: Walk> Walk for Mostly<T> {
    fn walk(&mut self, visit: &mut dyn FnMut(Slot<'_>)) {
        visit(Slot::Pick(&mut self.pick));
        // An alternative that is not taken changes nothing that is sent; it gets
        // mutated once a pick edit takes it.
        if self.get().is_some() {
            self.alternative.walk(visit);
        }
    }
}

impl Walk for Step {
    fn walk(&mut self, visit: &mut dyn FnMut(Slot<'_>)) {
        match self {
            Step::CallTool(call) => call.walk(visit),
            Step::Method(call) => call.walk(visit),
            Step::Notification(note) => note.walk(visit),
            Step::Batch(batch) => batch.walk(visit),
            Step::UnsolicitedResponse(response) => response.walk(visit),
            Step::Raw(raw) => raw.walk(visit),
            Step::SetReplyPolicy(policy) => policy.walk(visit),
        }
    }
}

/// Implements `Walk` for a struct: an optional slot for the struct itself, then its
/// fields in order. Destructuring without `..` makes a forgotten field a compile error.
macro_rules! walk_struct {
    ($type:ident $(=> $hook:ident)? { $($field:ident),* $(,)? }) => {
        impl Walk for $type {
            fn walk(&mut self, visit: &mut dyn FnMut(Slot<'_>)) {
                $( visit(Slot::$hook(&mut *self)); )?
                let $type { $($field),* } = self;
                $( $field.walk(visit); )*
            }
        }
    };
}

/// Implements `Choice` and `Walk` for an enum: an optional slot for its type, a choice
/// slot, then the fields of the current variant. The variants must be listed in
/// declaration order, as `shapes.rs` lists them (the tests check that re-chosen
/// variants round-trip); the exhaustive match makes a forgotten variant a compile error.
macro_rules! walk_enum {
    ($type:ident $(=> $hook:ident)? { $($variant:ident $(($($field:ident),*))? $({ $($named:ident),* })?),* $(,)? }) => {
        impl Choice for $type {
            fn index(&self) -> usize {
                const NAMES: &[&str] = &[$(stringify!($variant)),*];
                let name = match self {
                    $( $type::$variant { .. } => stringify!($variant), )*
                };
                NAMES.iter().position(|known| *known == name).unwrap_or(0)
            }

            fn count(&self) -> usize {
                const NAMES: &[&str] = &[$(stringify!($variant)),*];
                NAMES.len()
            }

            fn choose(&mut self, index: usize, rest: &[u8]) {
                // Fully qualified: some plan types have an inherent `count` of their own.
                let mut bytes = variant_bytes(index, <Self as Choice>::count(self)).to_vec();
                bytes.extend_from_slice(rest);
                if let Ok(value) = <$type as Arbitrary>::arbitrary(&mut Unstructured::new(&bytes)) {
                    *self = value;
                }
            }
        }

        impl Walk for $type {
            fn walk(&mut self, visit: &mut dyn FnMut(Slot<'_>)) {
                $( visit(Slot::$hook(&mut *self)); )?
                visit(Slot::Choice(&mut *self));
                match self {
                    $(
                        $type::$variant $(($($field),*))? $({ $($named),* })? => {
                            $($( $field.walk(visit); )*)?
                            $($( $named.walk(visit); )*)?
                        }
                    )*
                }
            }
        }
    };
}

plan_shapes!(walk_struct, walk_enum);
