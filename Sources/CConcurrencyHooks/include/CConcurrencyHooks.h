#ifndef MULTIPRODIGY_CCONCURRENCYHOOKS_H
#define MULTIPRODIGY_CCONCURRENCYHOOKS_H

/// The Swift runtime's hook for enqueueing jobs on the global executor, a variable of
/// libswift_Concurrency. Named at link time rather than looked up with dlsym, so that it is found
/// in a static executable too (`--static-swift-stdlib` links the runtime without exporting it).
extern void *_Nullable swift_task_enqueueGlobal_hook;

/// The address of `swift_task_enqueueGlobal_hook`: Swift reads and sets the slot through it.
static inline void *_Nullable *_Nonnull multiprodigy_enqueueGlobalHookSlot(void) {
    return &swift_task_enqueueGlobal_hook;
}

#endif
