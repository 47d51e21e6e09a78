// Everything a component author needs.
#pragma once

#include "capstan/component.hpp"
#include "capstan/component_type.hpp"
#include "capstan/config.hpp"
#include "capstan/connection.hpp"
#include "capstan/database.hpp"
#include "capstan/error.hpp"
#include "capstan/form_urlencoded.hpp"
#include "capstan/log.hpp"
#include "capstan/loop.hpp"
#include "capstan/notify.hpp"
#include "capstan/route_keys.hpp"
#include "capstan/server.hpp"
#include "capstan/topics.hpp"
#include "capstan/types.hpp"
#include "capstan/users.hpp"
#include "capstan/watch.hpp"
