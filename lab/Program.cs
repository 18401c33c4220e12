// Placeholder entry point: the lab project is an executable (hcrlab) whose commands are not written yet, and without a
// Main the solution does not build. The real command line replaces this file.
return 0;
