/* same floor */
#include "mid_b/y.h"
