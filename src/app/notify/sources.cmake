target_sources(capstan PRIVATE
  app/notify/relative_time.cpp
)
