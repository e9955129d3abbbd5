/* allowed: a lower floor */
#include "mid_b/y.h"
