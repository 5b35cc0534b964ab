#pragma once
// A tree for tools/check_includes.py's own test: a datasets header that includes a head.
#include "core/error.h"
#include "heads/seg/segmentor.h"
