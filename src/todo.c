/* Verbs not built yet. (verify lives in guard_exec.c: it hands over to gitcage-guard.) */
