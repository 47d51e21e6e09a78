target_sources(capstan PRIVATE
  app/notify/relative_time.cpp
  app/notify/action_json.cpp
  app/notify/notify_route.cpp
  app/notify/notify_component.cpp
  app/notify/notify_actions.cpp
  app/notify/notify_type.cpp
  app/notify/notify_keys.cpp
  components/builtin_types.cpp
  components/pubsub/channel_names.cpp
  components/pubsub/channel_registry.cpp
  components/pubsub/pubsub_keys.cpp
  components/pubsub/pubsub_component.cpp
  components/pubsub/pubsub_cluster.cpp
  components/pubsub/bus_messages.cpp
  components/pubsub/pubsub_type.cpp
)
