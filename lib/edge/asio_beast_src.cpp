// The compiled part of Boost.Asio and Boost.Beast for all of libdevx (separate compilation mode,
// see lib/CMakeLists.txt): every other translation unit includes only their declarations.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
