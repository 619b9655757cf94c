//! Definition traits: what a workflow, signal, query or activity is called and which types it
//! takes and returns.
//!
//! The `#[workflow]` and `#[activity]` macros implement these for the user's code, so the
//! client and workflow APIs are generic over them and a wrong argument type is a compile
//! error. For workflows written in other languages, the `…Ref` types name a definition by its
//! type name and give it Rust types:
//!
//! ```
//! use workflow_core::definition::{QueryRef, SignalRef, UpdateRef, WorkflowDefinition, WorkflowRef};
//!
//! // A Python workflow `Accumulator` with a signal `add_item(str)`, a query `items()` and
//! // an update `remove(str) -> int`.
//! const ACCUMULATOR: WorkflowRef<(), Vec<String>> = WorkflowRef::new("Accumulator");
//! const ADD_ITEM: SignalRef<WorkflowRef<(), Vec<String>>, String> = SignalRef::new("add_item");
//! const ITEMS: QueryRef<WorkflowRef<(), Vec<String>>, (), Vec<String>> = QueryRef::new("items");
//! const REMOVE: UpdateRef<WorkflowRef<(), Vec<String>>, String, i64> = UpdateRef::new("remove");
//!
//! assert_eq!(ACCUMULATOR.name(), "Accumulator");
//! ```

use std::fmt;
use std::marker::PhantomData;

use crate::payload::{PayloadArgs, PayloadValue};

/// A workflow type: its name and typed input and output.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a workflow definition",
    label = "expected a workflow's run method or a `WorkflowRef`",
    note = "pass the run method of a `#[workflow]` type, e.g. `MyWorkflow::run`, or name a workflow of another language with `WorkflowRef::new(\"TypeName\")`"
)]
pub trait WorkflowDefinition: Send + Sync + 'static {
    /// The arguments of the run method.
    type Input: PayloadArgs;
    /// What the run method returns.
    type Output: PayloadValue;
    /// The workflow type name on the wire.
    fn name(&self) -> &str;
}

/// A signal of the workflow `Workflow`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a signal definition",
    note = "pass a `#[signal]` method of the workflow, or a `SignalRef`"
)]
pub trait SignalDefinition: Send + Sync + 'static {
    /// The workflow this signal belongs to; sending it to another workflow does not compile.
    type Workflow: WorkflowDefinition;
    /// The signal's arguments.
    type Input: PayloadArgs;
    /// The signal name on the wire.
    fn name(&self) -> &str;
}

/// A query of the workflow `Workflow`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a query definition",
    note = "pass a `#[query]` method of the workflow, or a `QueryRef`"
)]
pub trait QueryDefinition: Send + Sync + 'static {
    /// The workflow this query belongs to.
    type Workflow: WorkflowDefinition;
    /// The query's arguments.
    type Input: PayloadArgs;
    /// What the query returns.
    type Output: PayloadValue;
    /// The query name on the wire.
    fn name(&self) -> &str;
}

/// An update of the workflow `Workflow`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an update definition",
    note = "pass an `#[update]` method of the workflow, or an `UpdateRef`"
)]
pub trait UpdateDefinition: Send + Sync + 'static {
    /// The workflow this update belongs to; sending it to another workflow does not compile.
    type Workflow: WorkflowDefinition;
    /// The update's arguments.
    type Input: PayloadArgs;
    /// What the update returns.
    type Output: PayloadValue;
    /// The update name on the wire.
    fn name(&self) -> &str;
}

/// An activity type: its name and typed input and output.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an activity definition",
    note = "pass an `#[activity]` function, or name an activity of another language with `ActivityRef::new(\"name\")`"
)]
pub trait ActivityDefinition: Send + Sync + 'static {
    /// The activity's arguments.
    type Input: PayloadArgs;
    /// What the activity returns.
    type Output: PayloadValue;
    /// The activity type name on the wire.
    fn name(&self) -> &str;
}

/// A workflow known by its type name, with Rust types for its input and output.
pub struct WorkflowRef<I, O> {
    name: &'static str,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O> WorkflowRef<I, O> {
    /// Names a workflow type.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _types: PhantomData,
        }
    }
}

impl<I: PayloadArgs, O: PayloadValue> WorkflowDefinition for WorkflowRef<I, O> {
    type Input = I;
    type Output = O;
    fn name(&self) -> &str {
        self.name
    }
}

/// A signal known by its name, for the workflow definition `W`.
pub struct SignalRef<W, I> {
    name: &'static str,
    _types: PhantomData<fn(W, I)>,
}

impl<W, I> SignalRef<W, I> {
    /// Names a signal.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _types: PhantomData,
        }
    }
}

impl<W: WorkflowDefinition, I: PayloadArgs> SignalDefinition for SignalRef<W, I> {
    type Workflow = W;
    type Input = I;
    fn name(&self) -> &str {
        self.name
    }
}

/// A query known by its name, for the workflow definition `W`.
pub struct QueryRef<W, I, O> {
    name: &'static str,
    _types: PhantomData<fn(W, I) -> O>,
}

impl<W, I, O> QueryRef<W, I, O> {
    /// Names a query.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _types: PhantomData,
        }
    }
}

impl<W: WorkflowDefinition, I: PayloadArgs, O: PayloadValue> QueryDefinition for QueryRef<W, I, O> {
    type Workflow = W;
    type Input = I;
    type Output = O;
    fn name(&self) -> &str {
        self.name
    }
}

/// An update known by its name, for the workflow definition `W`.
pub struct UpdateRef<W, I, O> {
    name: &'static str,
    _types: PhantomData<fn(W, I) -> O>,
}

impl<W, I, O> UpdateRef<W, I, O> {
    /// Names an update.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _types: PhantomData,
        }
    }
}

impl<W: WorkflowDefinition, I: PayloadArgs, O: PayloadValue> UpdateDefinition
    for UpdateRef<W, I, O>
{
    type Workflow = W;
    type Input = I;
    type Output = O;
    fn name(&self) -> &str {
        self.name
    }
}

/// An activity known by its type name, with Rust types for its input and output.
pub struct ActivityRef<I, O> {
    name: &'static str,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O> ActivityRef<I, O> {
    /// Names an activity type.
    pub const fn new(name: &'static str) -> Self {
        Self {
            name,
            _types: PhantomData,
        }
    }
}

impl<I: PayloadArgs, O: PayloadValue> ActivityDefinition for ActivityRef<I, O> {
    type Input = I;
    type Output = O;
    fn name(&self) -> &str {
        self.name
    }
}

macro_rules! impl_ref_common {
    ($ty:ident < $($p:ident),* >) => {
        impl<$($p),*> Clone for $ty<$($p),*> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<$($p),*> Copy for $ty<$($p),*> {}
        impl<$($p),*> fmt::Debug for $ty<$($p),*> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($ty)).field(&self.name).finish()
            }
        }
    };
}

impl_ref_common!(WorkflowRef<I, O>);
impl_ref_common!(SignalRef<W, I>);
impl_ref_common!(QueryRef<W, I, O>);
impl_ref_common!(UpdateRef<W, I, O>);
impl_ref_common!(ActivityRef<I, O>);
