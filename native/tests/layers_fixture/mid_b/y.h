/* the public header and lower floors: allowed */
#include "mobilellm.h"
#include "low/a.h"
