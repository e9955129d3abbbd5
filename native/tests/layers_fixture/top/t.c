/* allowed: every lower floor, and a file next to this one */
#include "backends/one/b.h"
#include "low/a.h"
#include "t.h"
