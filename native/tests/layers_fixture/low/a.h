/* up a floor */
#include "top/t.h"
