/* across backends */
#include "backends/two/c.h"
#include "mid_a/x.h"
