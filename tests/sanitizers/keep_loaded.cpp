// LD_PRELOADed into the studio screenshot test under PONDER_SANITIZE only (sanitizers.cmake):
// a dlclose() that keeps every library mapped. Mesa unloads its driver (swrast_dri.so) when
// the X display closes, before LeakSanitizer's exit-time check; blocks that the driver's
// globals still point at then look leaked, from "<unknown module>", which no suppression can
// name. Keeping the driver mapped lets LSan see those globals, and leak checking stays on for
// the rest of ponder-studio. Built without sanitizers: Xvfb loads it too.
extern "C" int dlclose(void*) {
    return 0;
}
