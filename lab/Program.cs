// Placeholder entry point so the lab project builds while the command line is written elsewhere; replace freely.
return 0;
