// Declarations only (include/CFuzzSupport.h); a C target needs one source file.
#include "CFuzzSupport.h"
