// An HTTP answer as the routes produce it; the session serializes it.
#pragma once

#include <string>

namespace postino::http {

struct Response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::string allow = {};             // for 405
  std::string www_authenticate = {};  // for 401
};

}  // namespace postino::http
